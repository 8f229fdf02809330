package mp_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

var countedIdle = mp.NewFunc("mp_test.countedIdle", func(ctx context.Context, n *mp.Int[int64]) error {
	n.Add(1)
	<-ctx.Done()
	return nil
})

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// A program that starts 300 workers under a low limit of open files (as
// `ulimit -n` gives) gets a clear error from the Start that runs out, the
// workers already started work, and once they are joined every descriptor
// is back: nothing leaks, nothing hangs.
func TestProbeStartUnderLowFileLimit(t *testing.T) {
	n, err := mp.NewInt[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	low := old
	low.Cur = uint64(before + 40)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var ps []*mp.Process
	var startErr error
	for range 300 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p, err := countedIdle.Start(ctx, n)
		if err != nil {
			cancel()
			startErr = err
			break
		}
		t.Cleanup(cancel)
		ps = append(ps, p)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d workers started with %d descriptors free; then: %v", len(ps), 40, startErr)
	if !errors.Is(startErr, syscall.EMFILE) || len(ps) == 0 {
		t.Fatalf("after %d workers, Start said %v, want an error wrapping EMFILE", len(ps), startErr)
	}
	waitFor(t, "every started worker to run", func() bool { return n.Load() == int64(len(ps)) })
	for _, p := range ps {
		p.Kill()
		p.Join()
	}
	waitFor(t, "the descriptors to be closed", func() bool { return openFDs(t) <= before })
}

// Every wait cancelled mid-way returns the context's error promptly and
// leaves the object as it was (a Barrier breaks, as in Python).
func TestProbeCancelledMidWait(t *testing.T) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	empty, err := mp.NewQueue[int]()
	must(err)
	full, err := mp.NewQueue[int](mp.WithCapacity(1))
	must(err)
	must(full.Put(1))
	sem, err := mp.NewSemaphore(0)
	must(err)
	ev, err := mp.NewEvent()
	must(err)
	cond, err := mp.NewCondition(nil)
	must(err)
	bar, err := mp.NewBarrier(2)
	must(err)
	jq, err := mp.NewJoinableQueue[int]()
	must(err)
	must(jq.Put(1))
	a, _, err := mp.NewPipe[int](true)
	must(err)
	l, err := mp.NewLock()
	must(err)
	held := make(chan struct{})
	release := make(chan struct{})
	go func() { // another goroutine holds the lock: LockContext must wait
		l.Lock()
		close(held)
		<-release
		l.Unlock()
	}()
	<-held
	defer close(release)
	for what, wait := range map[string]func(context.Context) error{
		"Queue.GetContext":   func(ctx context.Context) error { _, err := empty.GetContext(ctx); return err },
		"Queue.PutContext":   func(ctx context.Context) error { return full.PutContext(ctx, 2) },
		"Semaphore.Acquire":  sem.Acquire,
		"Event.Wait":         ev.Wait,
		"Condition.Wait":     func(ctx context.Context) error { cond.Lock(); defer cond.Unlock(); return cond.Wait(ctx) },
		"Barrier.Wait":       func(ctx context.Context) error { _, err := bar.Wait(ctx); return err },
		"JoinableQueue.Join": jq.Join,
		"Conn.RecvContext":   func(ctx context.Context) error { _, err := a.RecvContext(ctx); return err },
		"Lock.LockContext":   l.LockContext,
	} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- wait(ctx) }()
		time.Sleep(50 * time.Millisecond) // into its sleep
		cancelled := time.Now()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled mid-wait: %v, want context.Canceled", what, err)
			}
			if d := time.Since(cancelled); d > 500*time.Millisecond {
				t.Errorf("%s returned %v after its context was cancelled", what, d)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not return after its context was cancelled", what)
		}
	}
	if empty.Len() != 0 || full.Len() != 1 || sem.Value() != 0 || ev.IsSet() || jq.Len() != 1 {
		t.Errorf("cancelled waits changed their objects: queues hold %d and %d, semaphore %d, event %v, joinable %d",
			empty.Len(), full.Len(), sem.Value(), ev.IsSet(), jq.Len())
	}
	if !bar.Broken() {
		t.Error("a Barrier.Wait cancelled mid-wait left the barrier whole, want it broken as Python's timeout does")
	}
	if l.TryLock() {
		t.Error("a cancelled LockContext left the lock free while another goroutine holds it")
	}
}
