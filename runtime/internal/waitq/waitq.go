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
// Sleeps are bounded by the interval the caller gives. That bound is what
// lets a caller notice a process that died without notifying (a semaphore
// holder, a barrier party) and covers a wake-up lost to a notifier killed
// between its change and its Notify; callers re-check their condition, and
// the liveness of the processes it depends on, each time Sleep returns.
package waitq

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
)

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

// Sleep waits until the sequence number differs from seen, until d passes,
// until ctx is done, or spuriously. Callers re-check their condition.
func (w *Word) Sleep(ctx context.Context, seen uint32, d time.Duration) {
	if ctx.Done() != nil {
		if ctx.Err() != nil {
			return
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
		futex.Wait(&w.seq, seen, d)
	}
	atomic.AddUint32(&w.sleepers, ^uint32(0))
}

// Sleepers returns how many sleepers are counted in: a diagnostic, stale as
// soon as it is read (a process killed in its sleep stays counted).
func (w *Word) Sleepers() int { return int(atomic.LoadUint32(&w.sleepers)) }
