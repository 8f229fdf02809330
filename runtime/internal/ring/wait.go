package ring

import (
	"context"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
	"golang.org/x/sys/unix"
)

const (
	// spinChecks is how many times a waiter looks at the ring before it
	// yields: at millions of records a second the other side usually
	// catches up in less time than a futex round trip takes.
	spinChecks = 2048
	// yields is how many times it then gives up the CPU before it sleeps,
	// which lets the other side run on a machine with fewer cores than
	// runnable processes.
	yields = 8
	// backstop bounds every sleep. Live processes never lose a wake-up
	// (see the contract); the backstop covers only one lost to a process
	// killed between publishing and waking (and the next publication wakes
	// sleepers anyway). Each wake-up of an idle Go process costs about half
	// a millisecond of CPU, so an idle waiter costs about 0.01% of a core.
	backstop = 5 * time.Second
	// healInterval spaces out the search for dead sleepers.
	healInterval = 100 * time.Millisecond
)

// sleepSide is where one side's waiters sleep: the futex word, the count
// that publishers read, and the table of who is asleep.
type sleepSide struct {
	word    uint32 // futex word, bumped to wake
	waiting uint32 // sleepers counted in; nonzero makes publishers wake
	_       [64 - 8]byte
	// sleepers holds the owner id of each sleeper that found a free entry.
	// An entry stands for one count in waiting, taken in before the entry is
	// claimed and given back after it is cleared, so clearing a dead
	// process's entry may give its count back.
	sleepers [64]uint32
}

// wake wakes one sleeper of s if any is counted in.
func (r *Ring) wake(s *sleepSide) {
	if atomic.LoadUint32(&s.waiting) == 0 {
		return
	}
	atomic.AddUint32(&s.word, 1)
	if futex.Wake(&s.word, 1) == 0 {
		// Nobody was asleep: the count may be a dead sleeper's.
		r.heal(s)
	}
}

func (s *sleepSide) wakeAll() {
	atomic.AddUint32(&s.word, 1)
	futex.Wake(&s.word, math.MaxInt32)
}

// heal gives back the counts of sleepers whose process is dead. It asks
// about liveness (a system call per entry) at most once a healInterval per
// process.
func (r *Ring) heal(s *sleepSide) {
	now := time.Now().UnixNano()
	last := r.lastHeal.Load()
	if now-last < int64(healInterval) || !r.lastHeal.CompareAndSwap(last, now) {
		return
	}
	for i := range s.sleepers {
		id := atomic.LoadUint32(&s.sleepers[i])
		if id == 0 || id == r.self || r.owners.Alive(id) {
			continue
		}
		if atomic.CompareAndSwapUint32(&s.sleepers[i], id, 0) {
			for {
				n := atomic.LoadUint32(&s.waiting)
				if n == 0 || atomic.CompareAndSwapUint32(&s.waiting, n, n-1) {
					break
				}
			}
		}
	}
}

// waiter is one blocking call's state across its waits.
type waiter struct {
	stop func() bool
	// idle is set when a sleep ran out its backstop: nothing is moving,
	// and spinning before the next sleep would only burn CPU.
	idle bool
}

// wait returns when ready might hold, after spinning, yielding and then
// sleeping on s, or with ctx's error.
func (w *waiter) wait(ctx context.Context, r *Ring, s *sleepSide, ready func() bool) error {
	spins := spinChecks + yields
	if w.idle {
		spins = 1
	}
	for i := 0; i < spins; i++ {
		if ready() {
			return nil
		}
		if i >= spinChecks {
			// The other side may be a goroutine of this process, which
			// Gosched lets run, or another process, which sched_yield
			// does.
			runtime.Gosched()
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	if w.stop == nil && ctx.Done() != nil {
		// Changing the word makes a sleep that starts after cancellation
		// return at once, not at the next poll.
		w.stop = context.AfterFunc(ctx, s.wakeAll)
	}
	r.heal(s)
	atomic.AddUint32(&s.waiting, 1)
	entry := -1
	for i := range s.sleepers {
		if atomic.LoadUint32(&s.sleepers[i]) == 0 && atomic.CompareAndSwapUint32(&s.sleepers[i], 0, r.self) {
			entry = i
			break
		}
	}
	seq := atomic.LoadUint32(&s.word)
	if !ready() && ctx.Err() == nil {
		slept := time.Now()
		r.owners.Sleep(&s.word, seq, 0, 1, backstop)
		w.idle = time.Since(slept) >= backstop
	}
	// The entry goes first: while it stands, a healer may still give back
	// the count on this process's behalf only if this process is dead.
	if entry < 0 || atomic.CompareAndSwapUint32(&s.sleepers[entry], r.self, 0) {
		atomic.AddUint32(&s.waiting, ^uint32(0))
	}
	if err := ctx.Err(); err != nil {
		// This sleeper may have taken the one wake-up meant for a record or
		// a free slot: pass it on rather than strand another sleeper until
		// its backstop.
		if ready() && atomic.LoadUint32(&s.waiting) != 0 {
			atomic.AddUint32(&s.word, 1)
			futex.Wake(&s.word, 1)
		}
		return err
	}
	return nil
}

func (w *waiter) done() {
	if w.stop != nil {
		w.stop()
	}
}

// Sleepers returns how many callers are counted as asleep waiting for a
// record and for space: a diagnostic, stale as soon as it is read.
func (r *Ring) Sleepers() (consumers, producers int) {
	return int(atomic.LoadUint32(&r.h.notEmpty.waiting)), int(atomic.LoadUint32(&r.h.notFull.waiting))
}
