package mp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// syncArgs carries every synchronisation object a test worker may use.
type syncArgs struct {
	Event   *mp.Event
	Sem     *mp.Semaphore
	Barrier *mp.Barrier
	Cond    *mp.Condition
	RLock   *mp.RLock
	Ready   *mp.Int[int64]
	Woke    *mp.Int[int64]
	Go      *mp.Int[int64]
	Results *mp.Queue[string]
	N       int
}

var (
	eventWaiter = mp.NewFunc("mp_test.eventWaiter", func(ctx context.Context, a syncArgs) error {
		a.Ready.Add(1)
		if err := a.Event.Wait(ctx); err != nil {
			return err
		}
		a.Woke.Add(1)
		return nil
	})
	semHolder = mp.NewFunc("mp_test.semHolder", func(ctx context.Context, a syncArgs) error {
		for range a.N {
			if err := a.Sem.Acquire(ctx); err != nil {
				return err
			}
		}
		a.Ready.Add(1)
		select {}
	})
	barrierParty = mp.NewFunc("mp_test.barrierParty", func(ctx context.Context, a syncArgs) error {
		if a.N < 0 { // the party that never arrives
			a.Ready.Add(1)
			select {}
		}
		for round := range a.N {
			a.Ready.Add(1)
			if _, err := a.Barrier.Wait(ctx); err != nil {
				return a.Results.Put(err.Error())
			}
			// Every party's increment of this round is in before any
			// party passes the next barrier.
			a.Woke.Add(1)
			if _, err := a.Barrier.Wait(ctx); err != nil {
				return err
			}
			if got := a.Woke.Load(); got != int64(a.Barrier.Parties()*(round+1)) {
				return a.Results.Put("round count wrong")
			}
			if _, err := a.Barrier.Wait(ctx); err != nil {
				return err
			}
		}
		return a.Results.Put("ok")
	})
	condWaiter = mp.NewFunc("mp_test.condWaiter", func(ctx context.Context, a syncArgs) error {
		a.Cond.Lock()
		defer a.Cond.Unlock()
		a.Ready.Add(1)
		if err := a.Cond.WaitFor(ctx, func() bool { return a.Go.Load() == 1 }); err != nil {
			return err
		}
		a.Woke.Add(1)
		return nil
	})
	rlockHolder = mp.NewFunc("mp_test.rlockHolder", func(ctx context.Context, a syncArgs) error {
		a.RLock.Lock()
		a.RLock.Lock()
		a.Ready.Add(1)
		select {}
	})
)

func newSyncArgs(t *testing.T) syncArgs {
	t.Helper()
	ready, _ := mp.NewInt[int64](0)
	woke, _ := mp.NewInt[int64](0)
	goFlag, _ := mp.NewInt[int64](0)
	results, err := mp.NewQueue[string]()
	if err != nil {
		t.Fatal(err)
	}
	return syncArgs{Ready: ready, Woke: woke, Go: goFlag, Results: results}
}

func startN[A any](t *testing.T, f *mp.Func[A], a A, n int) []*mp.Process {
	t.Helper()
	var ps []*mp.Process
	for range n {
		p, err := f.Start(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Kill(); p.Join() })
		ps = append(ps, p)
	}
	return ps
}

func TestEventWakesEveryWaiter(t *testing.T) {
	a := newSyncArgs(t)
	var err error
	if a.Event, err = mp.NewEvent(); err != nil {
		t.Fatal(err)
	}
	ps := startN(t, eventWaiter, a, 4)
	waitFor(t, "4 waiters", func() bool { return a.Ready.Load() == 4 })
	time.Sleep(50 * time.Millisecond)
	if a.Woke.Load() != 0 || a.Event.IsSet() {
		t.Fatal("a waiter passed an Event that was never set")
	}
	a.Event.Set()
	joinAll(t, ps)
	if got := a.Woke.Load(); got != 4 {
		t.Fatalf("%d of 4 waiters woke", got)
	}
	// Set stays set; Clear lowers it; Wait honours its context.
	if err := a.Event.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Event.Clear()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Event.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a cleared Event: %v", err)
	}
}

func TestSemaphoreDeadHolderReturnsPermits(t *testing.T) {
	a := newSyncArgs(t)
	var err error
	if a.Sem, err = mp.NewSemaphore(3); err != nil {
		t.Fatal(err)
	}
	a.N = 2
	ps := startN(t, semHolder, a, 1)
	waitFor(t, "the holder's 2 permits", func() bool { return a.Ready.Load() == 1 })
	if got := a.Sem.Value(); got != 1 {
		t.Fatalf("Value = %d with 2 of 3 permits held, want 1", got)
	}
	if err := a.Sem.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.Sem.TryAcquire() {
		t.Fatal("TryAcquire took a fourth permit of 3")
	}
	ps[0].Kill()
	<-ps[0].Done()
	killed := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		if err := a.Sem.Acquire(ctx); err != nil {
			t.Fatalf("permit %d of the killed holder: %v", i+1, err)
		}
	}
	if d := time.Since(killed); d > time.Second {
		t.Errorf("the killed holder's permits came back after %v, want within 1 s", d)
	}
	if a.Sem.TryAcquire() {
		t.Fatal("TryAcquire took a fourth permit of 3 after the recovery")
	}
	for range 3 {
		if err := a.Sem.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Sem.Value(); got != 3 {
		t.Fatalf("Value = %d after releasing everything, want 3", got)
	}
}

func TestBoundedSemaphore(t *testing.T) {
	s, err := mp.NewBoundedSemaphore(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); !errors.Is(err, mp.ErrOverReleased) {
		t.Fatalf("Release of a full BoundedSemaphore: %v", err)
	}
	u, _ := mp.NewSemaphore(0)
	if u.TryAcquire() {
		t.Fatal("TryAcquire of Semaphore(0) succeeded")
	}
	if err := u.Release(); err != nil || u.Value() != 1 {
		t.Fatalf("Release of Semaphore(0): %v, Value %d", err, u.Value())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	s.Acquire(ctx)
	s.Acquire(ctx)
	if err := s.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of an empty Semaphore: %v", err)
	}
}

func TestBarrierRounds(t *testing.T) {
	a := newSyncArgs(t)
	var err error
	if a.Barrier, err = mp.NewBarrier(4); err != nil {
		t.Fatal(err)
	}
	a.N = 25
	ps := startN(t, barrierParty, a, 4)
	joinAll(t, ps)
	for range 4 {
		if msg, err := a.Results.Get(); err != nil || msg != "ok" {
			t.Fatalf("party: %q, %v", msg, err)
		}
	}
}

func TestBarrierPartyKilled(t *testing.T) {
	a := newSyncArgs(t)
	var err error
	if a.Barrier, err = mp.NewBarrier(4); err != nil {
		t.Fatal(err)
	}
	a.N = 1
	waiters := startN(t, barrierParty, a, 3)
	a.N = -1
	absent := startN(t, barrierParty, a, 1)[0]
	waitFor(t, "3 parties at the barrier and the 4th started", func() bool { return a.Ready.Load() == 4 })
	time.Sleep(100 * time.Millisecond)
	if a.Results.Len() != 0 {
		t.Fatal("a party passed a barrier that 3 of 4 reached")
	}
	absent.Kill()
	<-absent.Done()
	killed := time.Now()
	for range 3 {
		msg, err := a.Results.Get()
		if err != nil || msg != "mp: Barrier.Wait: a party died: mp: barrier is broken" {
			t.Fatalf("party: %q, %v", msg, err)
		}
	}
	if d := time.Since(killed); d > time.Second {
		t.Errorf("the barrier broke %v after the party died, want within 1 s", d)
	}
	joinAll(t, waiters)
	if !a.Barrier.Broken() {
		t.Fatal("Broken() = false after a party died")
	}
	a.Barrier.Reset()
	if a.Barrier.Broken() {
		t.Fatal("Broken() = true after Reset")
	}
}

func TestConditionWakesEveryWaiter(t *testing.T) {
	for _, kind := range []string{"Lock", "RLock"} {
		t.Run(kind, func(t *testing.T) {
			a := newSyncArgs(t)
			var l interface {
				Lock()
				Unlock()
			}
			if kind == "Lock" {
				l, _ = mp.NewLock()
			} else {
				l, _ = mp.NewRLock()
			}
			var err error
			if a.Cond, err = mp.NewCondition(l); err != nil {
				t.Fatal(err)
			}
			ps := startN(t, condWaiter, a, 4)
			waitFor(t, "4 waiters", func() bool { return a.Ready.Load() == 4 })
			time.Sleep(50 * time.Millisecond)
			a.Cond.Lock()
			if a.Woke.Load() != 0 {
				t.Fatal("a waiter passed before the predicate held")
			}
			a.Go.Store(1)
			a.Cond.NotifyAll()
			a.Cond.Unlock()
			joinAll(t, ps)
			if got := a.Woke.Load(); got != 4 {
				t.Fatalf("%d of 4 waiters woke", got)
			}
		})
	}
	if _, err := mp.NewCondition(new(sync.Mutex)); err == nil {
		t.Fatal("NewCondition accepted a lock other processes cannot share")
	}
}

func TestRLock(t *testing.T) {
	l, err := mp.NewRLock()
	if err != nil {
		t.Fatal(err)
	}
	l.Lock()
	l.Lock()
	if !l.TryLock() {
		t.Fatal("the holding goroutine could not take its RLock again")
	}
	other := make(chan bool)
	go func() { other <- l.TryLock() }()
	if <-other {
		t.Fatal("another goroutine took a held RLock")
	}
	l.Unlock()
	l.Unlock()
	go func() { other <- l.TryLock() }()
	if <-other {
		t.Fatal("another goroutine took an RLock still held once")
	}
	l.Unlock()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Unlock of a free RLock did not panic")
			}
		}()
		l.Unlock()
	}()

	a := newSyncArgs(t)
	a.RLock = l
	ps := startN(t, rlockHolder, a, 1)
	waitFor(t, "the holder", func() bool { return a.Ready.Load() == 1 })
	if l.TryLock() {
		t.Fatal("took an RLock a live process holds")
	}
	ps[0].Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.LockContext(ctx); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("LockContext after the holder died: %v", err)
	}
	l.Unlock()
	if !l.TryLock() {
		t.Fatal("the RLock is not free after one Unlock of a taken-over lock")
	}
	l.Unlock()
}
