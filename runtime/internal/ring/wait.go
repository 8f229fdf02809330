package ring

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
	"golang.org/x/sys/unix"
)

const (
	// spinChecks is how many times a waiter looks at the ring before it
	// yields: at millions of records a second the other side usually
	// catches up in less time than a futex round trip takes.
	spinChecks = 256
	// yields is how many times it then gives up the CPU before it sleeps,
	// which lets the other side run on a machine with fewer cores than
	// runnable processes.
	yields = 8
	// pollInterval bounds every sleep: it is the backstop for a wake-up
	// lost to a process killed between publishing and waking.
	pollInterval = 100 * time.Millisecond
)

// waiter is one blocking call's state across its waits.
type waiter struct {
	stop func() bool
}

// wait returns when ready might hold, after spinning, yielding and then
// sleeping on word with waiting counting this sleeper, or with ctx's error.
func (w *waiter) wait(ctx context.Context, word, waiting *uint32, ready func() bool) error {
	for i := 0; i < spinChecks+yields; i++ {
		if ready() {
			return nil
		}
		if i >= spinChecks {
			// runtime.Gosched would only run this process's goroutines;
			// the other side is usually another process.
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	if w.stop == nil && ctx.Done() != nil {
		// Changing the word makes a sleep that starts after cancellation
		// return at once, not at the next poll.
		w.stop = context.AfterFunc(ctx, func() {
			atomic.AddUint32(word, 1)
			futex.Wake(word, math.MaxInt32)
		})
	}
	atomic.AddUint32(waiting, 1)
	seq := atomic.LoadUint32(word)
	if !ready() && ctx.Err() == nil {
		futex.Wait(word, seq, pollInterval)
	}
	atomic.AddUint32(waiting, ^uint32(0))
	if err := ctx.Err(); err != nil {
		// This sleeper may have taken the one wake-up meant for a record or
		// a free slot: pass it on rather than strand another sleeper until
		// its next poll.
		if ready() && atomic.LoadUint32(waiting) != 0 {
			atomic.AddUint32(word, 1)
			futex.Wake(word, 1)
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
