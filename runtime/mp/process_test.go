package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// job mixes a handle with plain values, as a worker argument.
type job struct {
	Total  *mp.Int[int64]
	Values []int64
	Scale  int64
	Label  string
}

var (
	sumFunc = mp.NewFunc("mp_test.sum", func(ctx context.Context, j job) error {
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
	plainFunc = mp.NewFunc("mp_test.plain", func(ctx context.Context, p point) error {
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
)

func TestWorkersAddToSharedInt(t *testing.T) {
	total, err := mp.NewInt[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]int64{{1, 2, 3}, {10, 20}, {100}, nil}
	procs := make([]*mp.Process, len(batches))
	for i, b := range batches {
		procs[i], err = sumFunc.Start(context.Background(), job{Total: total, Values: b, Scale: 2, Label: "batch"})
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
	p, err := plainFunc.Start(context.Background(), point{X: 1.5, Y: -2})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Join()
	want := fmt.Sprintf("mp: worker %q (pid %d): got {X:1.5 Y:-2}", "mp_test.plain", p.Pid())
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
