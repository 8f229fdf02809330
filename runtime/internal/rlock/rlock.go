// Package rlock implements a robust mutual-exclusion lock on two 32-bit words
// in memory shared between processes.
//
// Contract. The lock's shared state is a State, placed by its user in a
// shared mapping at a 4-byte-aligned address. Every process that uses it
// names itself by a nonzero 31-bit owner id, and supplies an Owners that can
// tell whether the process behind an id is alive. Then:
//
//   - owner holds 0 while the lock is free and the holder's id while it is
//     held. Acquiring is a compare-and-swap 0 -> id; releasing swaps in 0.
//     Any process may release (as with sync.Mutex, the lock is not tied to
//     the goroutine or process that took it).
//   - waiters is the word sleepers wait on. Bit 0 is the woken bit: set by a
//     releaser that wakes one sleeper, cleared by sleepers when they run
//     again; while it is set releasers wake no one else, so a lock handed
//     back and forth quickly does not pay a futex syscall per release. Bits
//     1-19 count sleepers. Bits 20-31 are a sequence number that each waking
//     release advances. Sleepers wait on this word rather than on owner
//     because owner is not unique per acquisition: a process that releases
//     and retakes the lock writes back the same id, and a sleeper that read
//     the id before the release would sleep through the wake-up.
//   - A sleeper sleeps through Owners.Sleep, naming the holder it saw, so
//     that it wakes when woken or when that holder dies, whichever comes
//     first, and never on a timer (arena's Sleep watches the holder with a
//     file lock the kernel drops at its death). Told the holder is dead, it
//     takes the lock over with a compare-and-swap from the dead id and is
//     told ErrOwnerDead. A death bumps the sequence bits, which is all they
//     mean. After every change of holder while sleepers wait, one of them
//     reads owner again: a release wakes one (unless the woken bit says one
//     is on its way), and so does a sleeper that takes the lock or leaves on
//     cancellation. So some sleeper always watches the current holder; the
//     others watch older holders and may wake for nothing. backstop bounds a sleep only as a guard against a wake-up
//     lost to a bug: a release killed between its two steps is a death of
//     the holder, which the watch reports.
//   - TryLockOwners also takes over a free-for-dead lock: when the CAS from
//     0 fails it asks Owners whether the holder is alive (one system call).
//
// The fast paths (TryLock, the first CAS of Lock, and Unlock without
// sleepers) are small enough to inline; everything else is outlined.
package rlock

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
	"golang.org/x/sys/unix"
)

// ErrOwnerDead reports that the lock was acquired from a process that died
// holding it. The caller holds the lock; the state it guards may be half
// updated.
var ErrOwnerDead = errors.New("lock owner died while holding the lock")

// State is the shared part of a lock. Its zero value is an unlocked lock.
type State struct {
	owner   uint32
	waiters uint32
}

// Owners judges the liveness of processes and sleeps until one dies.
type Owners interface {
	// Alive reports whether the process that took a lock as id is alive.
	Alive(id uint32) bool
	// Sleep blocks while *word == val until woken on word, until the
	// process holder dies (then it adds bump to *word and returns true),
	// or until backstop passes. It may return false spuriously.
	Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) (holderDead bool)
}

const (
	unlocked  = 0
	wokenBit  = 1
	oneWaiter = 1 << 1
	countMask = 1<<20 - oneWaiter
	seqOne    = 1 << 20

	// spinLoads is how many times a contender re-reads the word before it
	// yields: a critical section of a few loads and stores ends sooner than
	// a context switch would.
	spinLoads = 64
	// yields is how many times it gives up the CPU before it sleeps, which
	// lets a holder that was preempted on the same core run to its release.
	yields = 4
	// backstop bounds every sleep; deaths are noticed without it.
	backstop = 10 * time.Second
)

// TryLock takes the lock for id if it is free.
func (s *State) TryLock(id uint32) bool {
	return atomic.CompareAndSwapUint32(&s.owner, unlocked, id)
}

// TryLockOwners takes the lock for id if it is free or its holder is dead.
// It returns ErrOwnerDead when it took the lock over from a dead holder,
// and reports whether it holds the lock.
func (s *State) TryLockOwners(id uint32, o Owners) (bool, error) {
	if atomic.CompareAndSwapUint32(&s.owner, unlocked, id) {
		return true, nil
	}
	return s.tryTakeOver(id, o)
}

func (s *State) tryTakeOver(id uint32, o Owners) (bool, error) {
	v := atomic.LoadUint32(&s.owner)
	if v == unlocked {
		return atomic.CompareAndSwapUint32(&s.owner, unlocked, id), nil
	}
	if v != id && !o.Alive(v) && atomic.CompareAndSwapUint32(&s.owner, v, id) {
		return true, ErrOwnerDead
	}
	return false, nil
}

// Lock takes the lock for id, waiting as long as it takes. It recovers a
// lock whose holder died, and returns ErrOwnerDead when it did.
func (s *State) Lock(id uint32, o Owners) error {
	if atomic.CompareAndSwapUint32(&s.owner, unlocked, id) {
		return nil
	}
	return s.lockSlow(context.Background(), id, o)
}

// LockContext is Lock that gives up when ctx is done, returning ctx's error
// without the lock.
func (s *State) LockContext(ctx context.Context, id uint32, o Owners) error {
	if atomic.CompareAndSwapUint32(&s.owner, unlocked, id) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.lockSlow(ctx, id, o)
}

// Unlock releases the lock. It panics if the lock is not held, as
// sync.Mutex does, because that is always a bug in the caller.
func (s *State) Unlock() {
	if atomic.SwapUint32(&s.owner, unlocked) == unlocked {
		unlockOfUnlocked()
	}
	if w := atomic.LoadUint32(&s.waiters); w&countMask != 0 && w&wokenBit == 0 {
		s.wakeOne()
	}
}

// ErrNotLocked is what Unlock panics with when the lock is not held: a bug in
// the caller, or, in memory other processes can write, a lock word changed
// under its holder (see arena.Recover).
var ErrNotLocked = errors.New("mp: unlock of unlocked lock")

// unlockOfUnlocked is out of line so that Unlock stays cheap to inline.
//
//go:noinline
func unlockOfUnlocked() { panic(ErrNotLocked) }

// Holder returns the id of the current holder, or 0 if the lock is free.
func (s *State) Holder() uint32 { return atomic.LoadUint32(&s.owner) }

func (s *State) wakeOne() {
	for {
		w := atomic.LoadUint32(&s.waiters)
		if w&countMask == 0 || w&wokenBit != 0 {
			return
		}
		if atomic.CompareAndSwapUint32(&s.waiters, w, (w|wokenBit)+seqOne) {
			futex.Wake(&s.waiters, 1)
			return
		}
	}
}

func (s *State) lockSlow(ctx context.Context, id uint32, o Owners) error {
	for i := 0; i < spinLoads+yields; i++ {
		if atomic.LoadUint32(&s.owner) == unlocked &&
			atomic.CompareAndSwapUint32(&s.owner, unlocked, id) {
			return nil
		}
		if i >= spinLoads {
			// runtime.Gosched would only let this process's goroutines
			// run; the holder may be another process on this core.
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return s.sleep(ctx, id, o)
}

func (s *State) sleep(ctx context.Context, id uint32, o Owners) error {
	atomic.AddUint32(&s.waiters, oneWaiter)
	leave := func() { atomic.AddUint32(&s.waiters, ^uint32(oneWaiter-1)) }
	// A sleeper that takes the lock makes the others' watches stale: they
	// watch a holder that no longer holds. One of them must look again, or
	// this process's death would go unnoticed.
	acquired := func() { leave(); s.wakeOne() }
	if ctx.Done() != nil {
		// A cancelled context wakes every sleeper on the word; the others
		// find the lock still held and sleep again.
		stop := context.AfterFunc(ctx, func() {
			atomic.AddUint32(&s.waiters, seqOne)
			futex.Wake(&s.waiters, 1<<30)
		})
		defer stop()
	}
	for {
		// A running sleeper is what the woken bit promises releasers; one
		// about to sleep again must clear it first, or the next release
		// would wake no one, believing a woken sleeper is on its way.
		w := atomic.LoadUint32(&s.waiters)
		if w&wokenBit != 0 {
			if !atomic.CompareAndSwapUint32(&s.waiters, w, w&^wokenBit) {
				continue
			}
			w &^= wokenBit
		}
		v := atomic.LoadUint32(&s.owner)
		if v == unlocked {
			if atomic.CompareAndSwapUint32(&s.owner, unlocked, id) {
				acquired()
				return nil
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			leave()
			// This sleeper may have been the one woken for a release that
			// happened meanwhile, or the one watching the current holder:
			// wake another to take its place rather than strand the rest.
			s.wakeOne()
			return err
		}
		slept := time.Now()
		if o.Sleep(&s.waiters, w, v, seqOne, backstop) {
			if atomic.CompareAndSwapUint32(&s.owner, v, id) {
				acquired()
				return ErrOwnerDead
			}
			continue
		}
		if time.Since(slept) >= backstop && atomic.LoadUint32(&s.owner) == unlocked {
			stranded.Add(1)
		}
	}
}

// stranded counts sleepers that slept a whole backstop while the lock was
// free: wake-ups lost by the protocol (or by a killed process). Tests
// hold it at zero.
var stranded atomic.Uint64
