package mp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

var (
	// condOnce waits once, without a predicate, and says how it woke.
	condOnce = mp.NewFunc("mp_test.condOnce", func(ctx context.Context, a syncArgs) error {
		a.Cond.Lock()
		a.Ready.Add(1)
		err := a.Cond.Wait(ctx)
		a.Woke.Add(1)
		a.Cond.Unlock()
		return a.Results.Put(fmt.Sprint(err))
	})
	// condHolderDies changes the state under the lock and dies before it
	// notifies.
	condHolderDies = mp.NewFunc("mp_test.condHolderDies", func(ctx context.Context, a syncArgs) error {
		a.Cond.Lock()
		a.Go.Store(1)
		a.Ready.Add(1)
		select {}
	})
)

func newCondArgs(t *testing.T) syncArgs {
	t.Helper()
	a := newSyncArgs(t)
	l, err := mp.NewLock()
	if err != nil {
		t.Fatal(err)
	}
	if a.Cond, err = mp.NewCondition(l); err != nil {
		t.Fatal(err)
	}
	return a
}

// registered waits until n waiters of condOnce are inside Wait: each counts
// itself while it holds the lock, and registers before it lets it go.
func registered(t *testing.T, a syncArgs, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d waiters", n), func() bool { return a.Ready.Load() == n })
	a.Cond.Lock()
	a.Cond.Unlock()
}

// stays checks that exactly want waiters have woken, now and a while later:
// longer than the sleeps' backstop, so a waiter that wakes unchosen is seen.
func stays(t *testing.T, a syncArgs, want int64, what string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d woken", want), func() bool { return a.Woke.Load() >= want })
	time.Sleep(5500 * time.Millisecond) // the backstop (syncBackstop) is 5 s
	if got := a.Woke.Load(); got != want {
		t.Fatalf("after %s: %d waiters woke, want exactly %d", what, got, want)
	}
}

// notify notifies n waiters (0: all) with the lock held, as Python requires.
func notify(a syncArgs, n int) {
	a.Cond.Lock()
	defer a.Cond.Unlock()
	if n == 0 {
		a.Cond.NotifyAll()
	} else {
		a.Cond.Notify(n)
	}
}

// Notify(n) wakes exactly n waiters, a waiter that gives up wakes no one
// else, NotifyAll wakes every one left, and none returns unchosen.
func TestConditionNotifyWakesExactlyN(t *testing.T) {
	a := newCondArgs(t)
	ps := startN(t, condOnce, a, 4)
	registered(t, a, 4)
	stays(t, a, 0, "no notification")

	a.Cond.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := a.Cond.Wait(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a 50 ms timeout: %v", err)
	}
	a.Cond.Unlock()
	stays(t, a, 0, "a waiter's timeout")

	notify(a, 1)
	stays(t, a, 1, "Notify(1)")
	notify(a, 2)
	stays(t, a, 3, "Notify(2)")
	notify(a, 0)
	joinAll(t, ps)
	for range 4 {
		if msg, err := a.Results.Get(); err != nil || msg != "<nil>" {
			t.Fatalf("a notified Wait returned %q, %v", msg, err)
		}
	}
}

// A waiter killed in Wait does not take a notification: Notify(1) skips it.
func TestConditionNotifySkipsDeadWaiter(t *testing.T) {
	a := newCondArgs(t)
	victim := startN(t, condOnce, a, 1)[0]
	registered(t, a, 1)
	victim.Kill()
	<-victim.Done()
	ps := startN(t, condOnce, a, 2)
	registered(t, a, 3)
	notify(a, 1)
	stays(t, a, 1, "Notify(1) with the oldest waiter dead")
	notify(a, 1)
	joinAll(t, ps)
}

// A process that changes the state under the lock and dies before it
// notifies strands no waiter: each wakes with ErrOwnerDead, WaitFor sees
// the predicate hold.
func TestConditionHolderDiesBeforeNotify(t *testing.T) {
	a := newCondArgs(t)
	ps := startN(t, condWaiter, a, 3)
	waitFor(t, "3 waiters", func() bool { return a.Ready.Load() == 3 })
	a.Cond.Lock()
	a.Cond.Unlock()
	killer := startN(t, condHolderDies, a, 1)[0]
	waitFor(t, "the holder", func() bool { return a.Ready.Load() == 4 })
	killer.Kill()
	<-killer.Done()
	died := time.Now()
	joinAll(t, ps)
	if got := a.Woke.Load(); got != 3 {
		t.Fatalf("%d of 3 waiters passed", got)
	}
	if d := time.Since(died); d > 5*time.Second {
		t.Errorf("waiters woke %v after the holder died", d)
	}
}
