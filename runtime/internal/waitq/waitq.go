// Package waitq lets processes sleep until a condition in shared memory may
// have changed, for the synchronisation objects of runtime/mp.
//
// Contract. A Word lives in shared memory. A waiter reads Seq, checks its
// condition, and if the condition does not hold calls Sleep with the
// sequence number it read; whoever changes the condition does so first and
// then calls Notify, which advances the sequence number and wakes sleepers.
// Sleep returns at once if the number moved after the waiter read it, so a
// change made between the check and the sleep is never missed. Notify pays
// a system call only while some sleeper is counted in.
//
// A sleeper may name one process whose death should end its sleep (a
// lock's holder), or several (a semaphore's holders, a barrier's parties
// yet to arrive): Owners.Sleep and ManyOwners.SleepAny (the arena's) watch
// them with locks the kernel drops at their death, without polling. Sleeps
// are also bounded by a backstop the caller gives, which covers a wake-up
// lost to a notifier killed between its change and its Notify. Callers
// re-check their condition each time Sleep returns.
package waitq

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
	// spinChecks is how many times Spin looks before it yields: a peer
	// process on another core usually answers within that.
	spinChecks = 1024
	// yields is how many times it then gives up the CPU, which lets a peer
	// on the same core run (sched_yield for another process, Gosched for a
	// goroutine of this one).
	yields = 8
)

// Spin reports whether ready held within a short spin, which saves a
// sleep and a wake-up system call when the change is imminent. Callers
// sleep when it reports false.
func Spin(ready func() bool) bool {
	for i := 0; i < spinChecks+yields; i++ {
		if ready() {
			return true
		}
		if i >= spinChecks {
			runtime.Gosched()
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return false
}

// Word is the shared part: a sequence number sleepers wait on and a count
// of sleepers. Its zero value is ready to use.
type Word struct {
	seq      uint32
	sleepers uint32
}

// Seq returns the current sequence number, to pass to Sleep.
func (w *Word) Seq() uint32 { return atomic.LoadUint32(&w.seq) }

// Notify advances the sequence number and wakes up to n sleepers (all of
// them when n <= 0).
func (w *Word) Notify(n int) {
	atomic.AddUint32(&w.seq, 1)
	if atomic.LoadUint32(&w.sleepers) == 0 {
		return
	}
	if n <= 0 {
		n = math.MaxInt32
	}
	futex.Wake(&w.seq, n)
}

// Owners judges and watches the liveness of processes by owner id; the
// arena implements it.
type Owners interface {
	Alive(id uint32) bool
	Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) (holderDead bool)
}

// ManyOwners also watches several processes in one sleep; the arena
// implements it.
type ManyOwners interface {
	Owners
	SleepAny(word *uint32, val uint32, holders []uint32, bump uint32, backstop time.Duration) (anyDead bool)
}

// Sleep waits until the sequence number differs from seen, until the
// process holder dies (0 for none; then it reports true), until d passes,
// until ctx is done, or spuriously. Callers re-check their condition.
func (w *Word) Sleep(ctx context.Context, o Owners, seen, holder uint32, d time.Duration) (holderDead bool) {
	return w.sleep(ctx, seen, func() bool {
		if holder == 0 {
			futex.Wait(&w.seq, seen, d)
			return false
		}
		return o.Sleep(&w.seq, seen, holder, 1, d)
	})
}

// SleepAny is Sleep watching every process of holders: it returns when any
// of them dies, and then reports true.
func (w *Word) SleepAny(ctx context.Context, o ManyOwners, seen uint32, holders []uint32, d time.Duration) (anyDead bool) {
	return w.sleep(ctx, seen, func() bool { return o.SleepAny(&w.seq, seen, holders, 1, d) })
}

// sleep counts the caller in as a sleeper and runs wait unless the
// sequence number moved from seen; ctx's end moves it.
func (w *Word) sleep(ctx context.Context, seen uint32, wait func() bool) (dead bool) {
	if ctx.Done() != nil {
		if ctx.Err() != nil {
			return false
		}
		// A cancelled context moves the word, which wakes every sleeper on
		// it; the others find their condition unchanged and sleep again.
		stop := context.AfterFunc(ctx, func() { w.Notify(0) })
		defer stop()
	}
	atomic.AddUint32(&w.sleepers, 1)
	// The count goes in before the sequence number is re-read, so a
	// notifier that moved it meanwhile saw the sleeper and wakes it.
	if atomic.LoadUint32(&w.seq) == seen {
		dead = wait()
	}
	atomic.AddUint32(&w.sleepers, ^uint32(0))
	return dead
}

// Sleepers returns how many sleepers are counted in: a diagnostic, stale as
// soon as it is read (a process killed in its sleep stays counted).
func (w *Word) Sleepers() int { return int(atomic.LoadUint32(&w.sleepers)) }
