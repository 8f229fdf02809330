package rlock

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
)

// owners is a fake process table: ids in dead are dead, all others alive.
// Its Sleep learns of a death only when it starts, so a test that kills a
// holder under a sleeper must wake the word itself.
type owners struct {
	dead     sync.Map
	mu       sync.Mutex
	watching map[uint32]int // sleepers in Sleep, by the holder they watch
}

func (o *owners) watchers(id uint32) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.watching[id]
}

func (o *owners) Alive(id uint32) bool { _, d := o.dead.Load(id); return !d }

func (o *owners) Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) bool {
	if !o.Alive(holder) {
		return true
	}
	o.mu.Lock()
	if o.watching == nil {
		o.watching = make(map[uint32]int)
	}
	o.watching[holder]++
	o.mu.Unlock()
	futex.Wait(word, val, backstop)
	o.mu.Lock()
	o.watching[holder]--
	o.mu.Unlock()
	return !o.Alive(holder)
}

func TestMutualExclusion(t *testing.T) {
	var s State
	o := &owners{}
	const goroutines, rounds = 8, 20000
	counter := 0
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func(id uint32) {
			defer wg.Done()
			for range rounds {
				if err := s.Lock(id, o); err != nil {
					t.Errorf("Lock: %v", err)
					return
				}
				counter++
				s.Unlock()
			}
		}(uint32(g + 1))
	}
	wg.Wait()
	if counter != goroutines*rounds {
		t.Fatalf("counter = %d, want %d", counter, goroutines*rounds)
	}
	if s.owner != unlocked || s.waiters&countMask != 0 {
		t.Fatalf("lock left as owner=%d waiters=%d", s.owner, s.waiters)
	}
}

func TestTryLock(t *testing.T) {
	var s State
	if !s.TryLock(1) {
		t.Fatal("TryLock of a free lock failed")
	}
	if s.TryLock(2) {
		t.Fatal("TryLock of a held lock succeeded")
	}
	if got := s.Holder(); got != 1 {
		t.Fatalf("Holder = %d, want 1", got)
	}
	s.Unlock()
	if !s.TryLock(2) {
		t.Fatal("TryLock after Unlock failed")
	}
}

func TestDeadOwnerIsTakenOver(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(7)
	o.dead.Store(uint32(7), true)
	start := time.Now()
	err := s.LockContext(context.Background(), 8, o)
	if !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("LockContext = %v, want ErrOwnerDead", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v to notice the dead owner, want < 1s", d)
	}
	if s.Holder() != 8 {
		t.Fatalf("Holder = %d, want 8", s.Holder())
	}
	s.Unlock()
	if err := s.Lock(9, o); err != nil {
		t.Fatalf("Lock after recovery: %v", err)
	}
}

func TestLiveOwnerIsNotTakenOver(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(7)
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	err := s.LockContext(ctx, 8, o)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockContext = %v, want DeadlineExceeded", err)
	}
	if s.Holder() != 7 {
		t.Fatalf("Holder = %d, want the live owner 7", s.Holder())
	}
	if w := atomic.LoadUint32(&s.waiters); w&countMask != 0 {
		t.Fatalf("a cancelled waiter is still counted: waiters=%d", w)
	}
}

func TestCancelWakesPromptly(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(7)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.LockContext(ctx, 8, o) }()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("LockContext = %v, want Canceled", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("cancellation took %v", d)
	}
}

func TestSleepersAreWoken(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(1)
	const n = 4
	var got sync.WaitGroup
	for i := range n {
		got.Add(1)
		go func() {
			defer got.Done()
			s.Lock(uint32(i+2), o)
			s.Unlock()
		}()
	}
	// Let them all reach the futex, then release: each must get the lock
	// long before the poll interval would have saved a lost wake-up.
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.Unlock()
	got.Wait()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("%d sleepers took %v to pass the lock along", n, d)
	}
}

func TestTryLockOwnersTakesOverTheDead(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(7)
	if ok, err := s.TryLockOwners(8, o); ok || err != nil {
		t.Fatalf("TryLockOwners of a live holder's lock = %v, %v; want false, nil", ok, err)
	}
	o.dead.Store(uint32(7), true)
	if ok, err := s.TryLockOwners(8, o); !ok || !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("TryLockOwners of a dead holder's lock = %v, %v; want true, ErrOwnerDead", ok, err)
	}
	if s.Holder() != 8 {
		t.Fatalf("Holder = %d, want 8", s.Holder())
	}
	if ok, err := s.TryLockOwners(9, o); ok || err != nil {
		t.Fatalf("TryLockOwners of the new holder's lock = %v, %v; want false, nil", ok, err)
	}
	s.Unlock()
	if ok, err := s.TryLockOwners(9, o); !ok || err != nil {
		t.Fatalf("TryLockOwners of a free lock = %v, %v; want true, nil", ok, err)
	}
}

// A sleeper that takes the lock leaves the others watching a holder that
// no longer holds it: it must wake one, which then watches the new holder,
// or the new holder's death would go unnoticed.
func TestSleeperThatAcquiresHandsTheWatchOn(t *testing.T) {
	var s State
	o := &owners{}
	s.TryLock(1)
	got := make(chan uint32, 2)
	for _, id := range []uint32{2, 3} {
		go func() {
			if err := s.Lock(id, o); err != nil {
				t.Errorf("Lock: %v", err)
			}
			got <- id
		}()
	}
	for o.watchers(1) != 2 {
		time.Sleep(time.Millisecond)
	}
	s.Unlock() // one sleeper gets it; the other must look at it again
	first := <-got
	deadline := time.Now().Add(2 * time.Second)
	for o.watchers(first) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no sleeper watches the new holder %d (watching the old one: %d)", first, o.watchers(1))
		}
		time.Sleep(time.Millisecond)
	}
	s.Unlock()
	<-got
	s.Unlock()
}

func TestUnlockOfUnlockedPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Unlock of an unlocked lock did not panic")
		}
	}()
	var s State
	s.Unlock()
}

func BenchmarkUncontended(b *testing.B) {
	var s State
	o := &owners{}
	for b.Loop() {
		s.Lock(1, o)
		s.Unlock()
	}
}

// Releases racing with sleepers must always wake one: a lost wake-up shows
// up as a sleeper that sleeps out its whole poll interval on a free lock.
func TestNoLostWakeups(t *testing.T) {
	var s State
	o := &owners{}
	before := stranded.Load()
	const goroutines, rounds = 6, 3000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func(id uint32) {
			defer wg.Done()
			for i := range rounds {
				s.Lock(id, o)
				if i%64 == 0 {
					// Hold it long enough for others to go to sleep.
					time.Sleep(50 * time.Microsecond)
				}
				s.Unlock()
			}
		}(uint32(g + 1))
	}
	wg.Wait()
	if n := stranded.Load() - before; n != 0 {
		t.Fatalf("%d sleepers slept a whole poll interval on a free lock", n)
	}
}
