package mp_test

import (
	"context"
	"errors"
	"fmt"
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
	if len(perPid) != 10 {
		t.Errorf("100 inputs ran in %d workers, want 10 (10 each): %v", len(perPid), perPid)
	}
	for pid, n := range perPid {
		if n > 10 {
			t.Errorf("worker %d ran %d inputs, more than 10", pid, n)
		}
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
