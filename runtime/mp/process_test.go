package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/worker/workertest"
	"github.com/mprace/mprace/runtime/mp"
)

// procPlain is a plain struct argument.
type procPlain struct {
	Name string
	X, Y float64
}

// sumJob mixes a handle with plain values, as a worker argument.
type sumJob struct {
	Total  *mp.Int[int64]
	Values []int64
	Scale  int64
	Label  string
}

var (
	sumFunc = mp.NewFunc("mp_test.sum", func(ctx context.Context, j sumJob) error {
		if j.Label != "batch" {
			return fmt.Errorf("label %q, want %q", j.Label, "batch")
		}
		var s int64
		for _, v := range j.Values {
			s += v * j.Scale
		}
		j.Total.Add(s)
		return nil
	})
	plainFunc = mp.NewFunc("mp_test.plain", func(ctx context.Context, p procPlain) error {
		return fmt.Errorf("got %+v", p)
	})
	closedFunc = mp.NewFunc("mp_test.closed", func(ctx context.Context, n int) error {
		return fmt.Errorf("queue %d: %w", n, mp.ErrClosed)
	})
	panicFunc = mp.NewFunc("mp_test.panic", func(ctx context.Context, msg string) error {
		panic(msg)
	})
	exitFunc = mp.NewFunc("mp_test.exit", func(ctx context.Context, code int) error {
		os.Exit(code)
		return nil
	})
	sleepFunc = mp.NewFunc("mp_test.sleep", func(ctx context.Context, _ struct{}) error {
		select {} // deaf to its context: only SIGKILL ends it
	})
	funcFunc = mp.NewFunc("mp_test.func", func(ctx context.Context, f func()) error { return nil })
	// parentFunc starts a worker of its own, publishes its pid and waits to
	// be killed.
	parentFunc = mp.NewFunc("mp_test.parent", func(ctx context.Context, pid *mp.Int[int64]) error {
		p, err := sleepFunc.Start(ctx, struct{}{})
		if err != nil {
			return err
		}
		pid.Store(int64(p.Pid()))
		return p.Join()
	})
)

// undecodable encodes but refuses to decode, as a handle from a foreign
// arena would in the worker. It must not be zero: gob leaves zero fields out.
type undecodable struct{ N int }

func (undecodable) GobEncode() ([]byte, error) { return []byte{1}, nil }
func (*undecodable) GobDecode([]byte) error    { return mp.ErrCorrupt }

var undecodableFunc = mp.NewFunc("mp_test.undecodable", func(ctx context.Context, u undecodable) error { return nil })

func TestArgumentDecodeError(t *testing.T) {
	p, err := undecodableFunc.Start(context.Background(), undecodable{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Join()
	want := fmt.Sprintf("mp: worker %q (pid %d): decode argument: ", "mp_test.undecodable", p.Pid())
	if !errors.Is(err, mp.ErrCorrupt) || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Join = %v, want %q... matching ErrCorrupt", err, want)
	}
}

// A worker's worker dies within a second of its parent's SIGKILL. (The
// worker package's tests check each of the guards that see to it.)
func TestWorkerDiesWithParent(t *testing.T) {
	workertest.Adopt(t)
	gpid, err := mp.NewInt[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parentFunc.Start(context.Background(), gpid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	for deadline := time.Now().Add(5 * time.Second); gpid.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the parent published no pid in 5s (Join: %v)", p.Join())
		}
	}
	p.Kill()
	killed := time.Now()
	if err := p.Join(); err == nil {
		t.Fatal("the killed parent reports success")
	}
	end, err := workertest.AwaitEnd(int(gpid.Load()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("grandchild gone %v after its parent: %v", time.Since(killed).Round(time.Millisecond), end)
}

var lateFuncs int

// A Func made after Main ran exists in this process but not in its workers.
func TestFuncNotAtPackageLevel(t *testing.T) {
	lateFuncs++
	late := mp.NewFunc(fmt.Sprintf("mp_test.late%d", lateFuncs), func(context.Context, int) error { return nil })
	_, err := late.Start(context.Background(), 1)
	if !errors.Is(err, mp.ErrNotRegistered) || !strings.Contains(err.Error(), "register entries at package level") {
		t.Fatalf("Start = %v, want ErrNotRegistered", err)
	}
}

func TestWorkersAddToSharedInt(t *testing.T) {
	total, err := mp.NewInt[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]int64{{1, 2, 3}, {10, 20}, {100}, nil}
	procs := make([]*mp.Process, len(batches))
	for i, b := range batches {
		procs[i], err = sumFunc.Start(context.Background(), sumJob{Total: total, Values: b, Scale: 2, Label: "batch"})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	for i, p := range procs {
		if p.Pid() == os.Getpid() {
			t.Fatalf("worker %d runs in the test process", i)
		}
		if err := p.Join(); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	if got, want := total.Load(), int64(2*(1+2+3+10+20+100)); got != want {
		t.Fatalf("total = %d, want %d", got, want)
	}
}

func TestPlainArgument(t *testing.T) {
	p, err := plainFunc.Start(context.Background(), procPlain{Name: "p", X: 1.5, Y: -2})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Join()
	want := fmt.Sprintf("mp: worker %q (pid %d): got {Name:p X:1.5 Y:-2}", "mp_test.plain", p.Pid())
	var we *mp.WorkerError
	if !errors.As(err, &we) || err.Error() != want {
		t.Fatalf("Join = %v, want *WorkerError %q", err, want)
	}
}

func TestJoinReportsSentinel(t *testing.T) {
	p, err := closedFunc.Start(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Join()
	if !errors.Is(err, mp.ErrClosed) || errors.Is(err, mp.ErrFull) {
		t.Fatalf("Join = %v, want it to match ErrClosed only", err)
	}
	if !strings.HasSuffix(err.Error(), ": queue 7: "+mp.ErrClosed.Error()) {
		t.Fatalf("Join = %q, lost the worker's message", err)
	}
}

func TestJoinReportsPanic(t *testing.T) {
	p, err := panicFunc.Start(context.Background(), "out of cheese")
	if err != nil {
		t.Fatal(err)
	}
	var pe *mp.PanicError
	if err := p.Join(); !errors.As(err, &pe) || pe.Value != "out of cheese" || !strings.Contains(pe.Stack, "process_test.go") {
		t.Fatalf("Join = %v, want *PanicError with value %q and its stack", err, "out of cheese")
	}
}

func TestJoinReportsExitStatus(t *testing.T) {
	p, err := exitFunc.Start(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ee *mp.ExitError
	if err := p.Join(); !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("Join = %v, want *ExitError with status 3", err)
	}
}

func TestCancelKillsWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := sleepFunc.Start(ctx, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		p.Kill()
		t.Fatal("the worker outlived its context by 5s")
	}
	if err := p.Join(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Join = %v, want it to wrap context.Canceled", err)
	}
}

func TestKillWorker(t *testing.T) {
	p, err := sleepFunc.Start(context.Background(), struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	var ee *mp.ExitError
	if err := p.Join(); !errors.As(err, &ee) || ee.Signal != 9 {
		t.Fatalf("Join = %v, want *ExitError killed by signal 9", err)
	}
}

func TestStartEncodeError(t *testing.T) {
	_, err := funcFunc.Start(context.Background(), func() {})
	if err == nil || !strings.HasPrefix(err.Error(), `mp: Start "mp_test.func": encode argument: `) {
		t.Fatalf("Start = %v, want an encoding error", err)
	}
}

func TestNewFuncTwicePanics(t *testing.T) {
	defer func() {
		if msg := fmt.Sprint(recover()); !strings.Contains(msg, `"mp_test.sum" registered twice`) {
			t.Fatalf("panic = %q, want one about the name registered twice", msg)
		}
	}()
	mp.NewFunc("mp_test.sum", func(context.Context, int) error { return nil })
}

// After the program's first start, Start returns while the worker is still
// initialising, which is what lets a plain loop of starts use every core.
func TestStartOverlapsWorkerStart(t *testing.T) {
	ctx := context.Background()
	run := func(i int64) (*mp.Process, *mp.Int[int64]) {
		t.Helper()
		total, err := mp.NewInt[int64](0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sumFunc.Start(ctx, sumJob{Total: total, Values: []int64{i}, Scale: 1, Label: "batch"})
		if err != nil {
			t.Fatal(err)
		}
		return p, total
	}
	// The program's first start may wait; this one is not measured.
	if p, _ := run(1); p.Join() != nil {
		t.Fatal(p.Join())
	}
	const slow = time.Second
	t.Setenv(slowStartEnv, slow.String())
	begin := time.Now()
	p, total := run(7)
	if d := time.Since(begin); d >= slow {
		t.Fatalf("Start took %v: it waited for a worker that reaches Main after %v", d, slow)
	}
	if err := p.WaitRunning(ctx); err != nil {
		t.Fatalf("WaitRunning: %v", err)
	}
	if d := time.Since(begin); d < slow {
		t.Fatalf("WaitRunning returned after %v, before the worker's %v delay", d, slow)
	}
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < slow {
		t.Fatalf("the worker ran after %v, before its %v delay", d, slow)
	}
	if got := total.Load(); got != 7 {
		t.Fatalf("the worker added %d, want 7", got)
	}
}
