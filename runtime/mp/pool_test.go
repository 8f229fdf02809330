package mp_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// poolGreeting is set in each pool worker by its initializer.
var poolGreeting string

var (
	squareFunc = mp.NewPoolFunc("mp_test.square", func(ctx context.Context, x int) (int, error) {
		return x * x, nil
	})
	// troubleFunc dies by SIGKILL on 777, panics on 5, fails on 3.
	troubleFunc = mp.NewPoolFunc("mp_test.trouble", func(ctx context.Context, x int) (int, error) {
		switch x {
		case 777:
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		case 5:
			panic("five")
		case 3:
			return 0, fmt.Errorf("three: %w", mp.ErrClosed)
		}
		return x + 1, nil
	})
	pidFunc = mp.NewPoolFunc("mp_test.pid", func(ctx context.Context, x int) (int, error) {
		return os.Getpid(), nil
	})
	greetFunc = mp.NewPoolFunc("mp_test.greet", func(ctx context.Context, name string) (string, error) {
		return poolGreeting + ", " + name, nil
	})
	initGreeting = mp.NewFunc("mp_test.initGreeting", func(ctx context.Context, g string) error {
		poolGreeting = g
		return nil
	})
	initFails = mp.NewFunc("mp_test.initFails", func(ctx context.Context, _ int) error {
		return errors.New("no database")
	})
	lenFunc = mp.NewPoolFunc("mp_test.len", func(ctx context.Context, s string) (int, error) {
		return len(s), nil
	})
	repeatFunc = mp.NewPoolFunc("mp_test.repeat", func(ctx context.Context, n int) (string, error) {
		if n < 0 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		return strings.Repeat("z", n), nil
	})
	// victimFunc publishes its pid in the input's Int and waits to be
	// killed on input 1; it doubles the others.
	victimFunc = mp.NewPoolFunc("mp_test.victim", func(ctx context.Context, in victimInput) (int, error) {
		if in.X == 1 {
			in.Pid.Store(int64(os.Getpid()))
			select {}
		}
		return 2 * in.X, nil
	})
	sleepyFunc = mp.NewPoolFunc("mp_test.sleepy", func(ctx context.Context, d time.Duration) (time.Duration, error) {
		time.Sleep(d)
		return d, nil
	})
)

func newPool[A, R any](t *testing.T, f *mp.PoolFunc[A, R], n int, opts ...mp.PoolOption) *mp.Pool[A, R] {
	t.Helper()
	p, err := mp.NewPool(f, n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Terminate(); p.Wait() })
	return p
}

func TestPoolMapInOrder(t *testing.T) {
	p := newPool(t, squareFunc, 2)
	in := make([]int, 100_000)
	for i := range in {
		in[i] = i - 50_000
	}
	for _, chunk := range []int{0, 1000, 7} {
		out, err := p.Map(context.Background(), in, chunk)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if len(out) != len(in) {
			t.Fatalf("chunk %d: %d results for %d inputs", chunk, len(out), len(in))
		}
		for i, x := range in {
			if out[i] != x*x {
				t.Fatalf("chunk %d: result %d = %d, want %d", chunk, i, out[i], x*x)
			}
		}
	}
}

func TestPoolWorkerKilledFailsOnlyItsTask(t *testing.T) {
	p := newPool(t, troubleFunc, 3)
	in := make([]int, 3000)
	for i := range in {
		in[i] = i
	}
	for _, chunk := range []int{1, 50} {
		before := p.Workers()
		out, err := p.Map(context.Background(), in, chunk)
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		if len(errs) != 3 {
			t.Fatalf("chunk %d: %d errors, want 3: %v", chunk, len(errs), err)
		}
		byIndex := map[int]*mp.TaskError{}
		for _, e := range errs {
			var te *mp.TaskError
			if !errors.As(e, &te) {
				t.Fatalf("chunk %d: %v is not a *TaskError", chunk, e)
			}
			byIndex[te.Index] = te
		}
		var exit *mp.ExitError
		if te := byIndex[777]; te == nil || te.Input != 777 || !errors.As(te, &exit) || exit.Signal != syscall.SIGKILL {
			t.Errorf("chunk %d: input 777: %v, want its worker killed by SIGKILL", chunk, byIndex[777])
		}
		var pe *mp.PanicError
		if te := byIndex[5]; te == nil || !errors.As(te, &pe) || pe.Value != "five" {
			t.Errorf("chunk %d: input 5: %v, want a panic \"five\"", chunk, byIndex[5])
		}
		if te := byIndex[3]; te == nil || !errors.Is(te, mp.ErrClosed) {
			t.Errorf("chunk %d: input 3: %v, want an error matching ErrClosed", chunk, byIndex[3])
		}
		for i, x := range in {
			if byIndex[i] == nil && out[i] != x+1 {
				t.Fatalf("chunk %d: result %d = %d, want %d", chunk, i, out[i], x+1)
			}
		}
		after := p.Workers()
		if len(after) != 3 || slices.Equal(before, after) {
			t.Errorf("chunk %d: workers %v before, %v after: want 3 with the killed one replaced", chunk, before, after)
		}
	}
}

// victimInput carries a handle: inputs travel through gob like worker
// arguments.
type victimInput struct {
	X   int
	Pid *mp.Int[int64]
}

// TestPoolWorkerKilledFromOutside SIGKILLs the worker running input 1 from
// the parent while the others run: exactly input 1 fails.
func TestPoolWorkerKilledFromOutside(t *testing.T) {
	p := newPool(t, victimFunc, 2)
	pid, _ := mp.NewInt[int64](0)
	in := make([]victimInput, 200)
	for i := range in {
		in[i] = victimInput{X: i, Pid: pid}
	}
	type mapped struct {
		out []int
		err error
	}
	ch := make(chan mapped, 1)
	go func() {
		out, err := p.Map(context.Background(), in, 10)
		ch <- mapped{out, err}
	}()
	waitFor(t, "the worker running input 1", func() bool { return pid.Load() != 0 })
	if err := syscall.Kill(int(pid.Load()), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var m mapped
	select {
	case m = <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("Map did not complete after its worker was killed")
	}
	var te *mp.TaskError
	var exit *mp.ExitError
	if !errors.As(m.err, &te) || te.Index != 1 || !errors.As(te, &exit) || exit.Signal != syscall.SIGKILL {
		t.Fatalf("Map error %v, want input 1's worker killed by SIGKILL", m.err)
	}
	if n := len(m.err.(interface{ Unwrap() []error }).Unwrap()); n != 1 {
		t.Fatalf("%d inputs failed, want 1: %v", n, m.err)
	}
	for i := range in {
		if i != 1 && m.out[i] != 2*i {
			t.Fatalf("result %d = %d, want %d", i, m.out[i], 2*i)
		}
	}
}

func TestPoolSubmitAndApply(t *testing.T) {
	p := newPool(t, squareFunc, 2)
	var rs []*mp.AsyncResult[int]
	for i := range 2000 {
		r, err := p.Submit(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	for i, r := range rs {
		got, err := r.Get(context.Background())
		if err != nil || got != i*i {
			t.Fatalf("Submit(%d) = %d, %v; want %d", i, got, err, i*i)
		}
		if !r.Ready() {
			t.Fatalf("result %d not ready after Get", i)
		}
	}
	if got, err := p.Apply(context.Background(), 12); got != 144 || err != nil {
		t.Fatalf("Apply(12) = %d, %v", got, err)
	}
}

func TestPoolUnordered(t *testing.T) {
	p := newPool(t, troubleFunc, 2)
	in := make([]int, 500)
	for i := range in {
		in[i] = i + 10
	}
	in[100] = 3
	seen := map[int]bool{}
	var failed []int
	for r, err := range p.Unordered(context.Background(), in, 1) {
		if err != nil {
			var te *mp.TaskError
			if !errors.As(err, &te) {
				t.Fatal(err)
			}
			failed = append(failed, te.Index)
			continue
		}
		if seen[r] {
			t.Fatalf("result %d twice", r)
		}
		seen[r] = true
	}
	if len(seen) != len(in)-1 || !slices.Equal(failed, []int{100}) {
		t.Fatalf("%d results and failures %v, want %d and [100]", len(seen), failed, len(in)-1)
	}
	for i, x := range in {
		if i != 100 && !seen[x+1] {
			t.Fatalf("no result for input %d", x)
		}
	}
	// Breaking out early abandons the rest without blocking the pool.
	n := 0
	for range p.Unordered(context.Background(), in, 1) {
		if n++; n == 3 {
			break
		}
	}
	if got, err := p.Apply(context.Background(), 1); got != 2 || err != nil {
		t.Fatalf("Apply after an abandoned Unordered = %d, %v", got, err)
	}
}

func TestPoolMaxTasksPerWorker(t *testing.T) {
	p := newPool(t, pidFunc, 2, mp.MaxTasksPerWorker(10))
	out, err := p.Map(context.Background(), make([]int, 100), 1)
	if err != nil {
		t.Fatal(err)
	}
	perPid := map[int]int{}
	for _, pid := range out {
		perPid[pid]++
	}
	// Each worker is replaced after exactly 10 inputs; only the last
	// worker of each of the 2 slots can run fewer, when the inputs run out
	// (the two slots take the last ones in whatever order they are ready).
	// The last workers of the slots are the last two started: the two
	// highest pids (this test starts too few processes to wrap pid_max).
	pids := slices.Sorted(maps.Keys(perPid))
	short := 0
	for i, pid := range pids {
		n := perPid[pid]
		if n > 10 {
			t.Errorf("worker %d ran %d inputs, more than 10", pid, n)
		}
		if n < 10 {
			short++
			if i < len(pids)-2 {
				t.Errorf("worker %d ran %d inputs and was replaced before 10: %v", pid, n, perPid)
			}
		}
	}
	if short > 2 || len(perPid) < 10 {
		t.Errorf("100 inputs ran in %d workers, %d of them retired early; want every worker but the last of each slot to run 10: %v", len(perPid), short, perPid)
	}
}

func TestPoolInitializer(t *testing.T) {
	p := newPool(t, greetFunc, 2, mp.WithInitializer(initGreeting, "hello"))
	out, err := p.Map(context.Background(), []string{"ada", "bob"}, 1)
	if err != nil || !slices.Equal(out, []string{"hello, ada", "hello, bob"}) {
		t.Fatalf("Map = %q, %v", out, err)
	}
	broken := newPool(t, greetFunc, 2, mp.WithInitializer(initFails, 0))
	_, err = broken.Map(context.Background(), []string{"x"}, 1)
	if !contains(err, "no database") {
		t.Fatalf("error %q does not say why the initializer failed", err)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func TestPoolCloseWaitTerminate(t *testing.T) {
	p := newPool(t, sleepyFunc, 2)
	if err := p.Wait(); !errors.Is(err, mp.ErrPoolRunning) {
		t.Fatalf("Wait on an open pool: %v", err)
	}
	var rs []*mp.AsyncResult[time.Duration]
	for range 4 {
		r, err := p.Submit(context.Background(), 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	p.Close()
	if _, err := p.Submit(context.Background(), 0); !errors.Is(err, mp.ErrPoolClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if d, err := r.Get(context.Background()); err != nil || d != 50*time.Millisecond {
			t.Fatalf("result %d after Close and Wait: %v, %v", i, d, err)
		}
	}

	q := newPool(t, sleepyFunc, 2)
	slow, _ := q.Submit(context.Background(), time.Hour)
	queued, _ := q.Submit(context.Background(), time.Hour)
	later, _ := q.Submit(context.Background(), time.Hour)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	q.Terminate()
	if err := q.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*mp.AsyncResult[time.Duration]{slow, queued, later} {
		if _, err := r.Get(context.Background()); !errors.Is(err, mp.ErrPoolTerminated) {
			t.Fatalf("task after Terminate: %v", err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Terminate and Wait took %v", d)
	}
}

func TestPoolContext(t *testing.T) {
	p := newPool(t, sleepyFunc, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	in := make([]time.Duration, 40)
	for i := range in {
		in[i] = 100 * time.Millisecond
	}
	start := time.Now()
	_, err := p.Map(ctx, in, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Map past its deadline: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Map returned %v after its deadline", d)
	}
	// The abandoned inputs are dropped: the pool serves new ones soon.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if d, err := p.Apply(ctx2, time.Millisecond); err != nil || d != time.Millisecond {
		t.Fatalf("Apply after a cancelled Map: %v, %v", d, err)
	}
}

// TestPoolLargeInputs maps 12 MB of inputs in chunks larger than a pool
// message: batches are cut to fit, and only an input too large for any
// message fails.
func TestPoolLargeInputs(t *testing.T) {
	p := newPool(t, lenFunc, 2)
	in := make([]string, 3000)
	for i := range in {
		in[i] = strings.Repeat("x", 4000+i)
	}
	in[42] = strings.Repeat("y", 3<<20)
	out, err := p.Map(context.Background(), in, 0)
	var te *mp.TaskError
	if !errors.As(err, &te) || te.Index != 42 || !errors.Is(err, mp.ErrTooLarge) {
		t.Fatalf("Map error %v, want input 42 too large", err)
	}
	for i := range in {
		if i != 42 && out[i] != 4000+i {
			t.Fatalf("result %d = %d, want %d", i, out[i], 4000+i)
		}
	}
}

// TestPoolLargeResults answers a batch of 8 MB of results in several
// messages; only a result too large for any message fails, and a worker
// killed after answering part of a batch fails only the input it ran.
func TestPoolLargeResults(t *testing.T) {
	p := newPool(t, repeatFunc, 2)
	in := make([]int, 400)
	for i := range in {
		in[i] = 20000 + i
	}
	in[7] = 3 << 20
	in[300] = -1
	out, err := p.Map(context.Background(), in, 400)
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	var te7, te300 *mp.TaskError
	var exit *mp.ExitError
	if len(errs) != 2 || !errors.As(errs[0], &te7) || !errors.As(errs[1], &te300) {
		t.Fatalf("Map error %v, want inputs 7 and 300 failed", err)
	}
	if te7.Index != 7 || !errors.Is(te7, mp.ErrTooLarge) || te300.Index != 300 || !errors.As(te300, &exit) {
		t.Fatalf("Map errors %v and %v, want result 7 too large and input 300's worker killed", te7, te300)
	}
	for i := range in {
		if i != 7 && i != 300 && out[i] != strings.Repeat("z", in[i]) {
			t.Fatalf("result %d has %d bytes, want %d", i, len(out[i]), in[i])
		}
	}
}

func TestPoolImapInOrder(t *testing.T) {
	p := newPool(t, troubleFunc, 2)
	in := make([]int, 3000)
	for i := range in {
		in[i] = i + 1000 // clear of troubleFunc's 3, 5 and 777
	}
	in[1234] = 3
	i := 0
	for r, err := range p.Imap(context.Background(), in, 7) {
		if i == 1234 {
			if !errors.Is(err, mp.ErrClosed) {
				t.Fatalf("result 1234: %v, want the function's error", err)
			}
		} else if err != nil || r != in[i]+1 {
			t.Fatalf("result %d: %d, %v; want %d", i, r, err, in[i]+1)
		}
		i++
	}
	if i != len(in) {
		t.Fatalf("%d results for %d inputs", i, len(in))
	}
}

// NewPool starts its workers side by side: with each worker taking "slow" to
// reach Main, one after another would take workers × slow.
func TestPoolStartsWorkersTogether(t *testing.T) {
	const workers, slow = 4, 600 * time.Millisecond
	t.Setenv(slowStartEnv, slow.String())
	begin := time.Now()
	p := newPool(t, squareFunc, workers)
	if d := time.Since(begin); d >= workers*slow {
		t.Fatalf("NewPool of %d workers took %v: it started them one by one", workers, d)
	}
	got, err := p.Map(context.Background(), []int{1, 2, 3, 4, 5}, 1)
	if err != nil || !slices.Equal(got, []int{1, 4, 9, 16, 25}) {
		t.Fatalf("Map = %v, %v", got, err)
	}
}
