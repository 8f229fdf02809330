package arena

// Sleeping until a process dies, without polling.
//
// Contract. Sleep(word, val, holder, bump, backstop) blocks like a futex wait
// on word while *word == val, and also returns when the process behind the
// owner id holder dies. It is the one sleep every shared primitive uses:
//
//   - word is a sleep word of the caller's: a 4-byte-aligned uint32 in this
//     arena whose value means nothing but "something changed" (a sequence
//     number, or a field of one), because a death adds bump to it. The
//     caller reads word, checks its condition, and sleeps with the value it
//     read, so a change between its check and its sleep is never missed.
//   - holder is the owner id whose death should end the sleep (0 for none).
//     A watcher goroutine of this process, one per watched slot and shared
//     by every sleeper on it, holds a read lock on the slot's gate byte,
//     checks the slot's gen still names holder, and then blocks in
//     F_OFD_SETLKW for a read lock on the owner byte, which the kernel grants
//     when the owner's write lock goes, that is when the holder dies or
//     detaches. Then it adds each subscribed sleeper's bump to its word and
//     wakes it. Its lock requests and releases happen under the arena's
//     watch mutex, on a duplicate of lockFD, so a Close cannot make it touch
//     another file.
//   - Sleep returns true only when holder is known dead; the caller then
//     takes over with a compare-and-swap from the dead id. A false return
//     may be a wake-up, a change of word, the backstop or a spurious return:
//     callers look again. A holder's death ends a sleep that started before
//     the watcher was established too, since the watcher bumps every word
//     subscribed before it fires.
//   - backstop bounds the sleep. It is not how deaths are noticed; it only
//     covers wake-ups lost to a process killed between publishing a change
//     and waking its sleepers. With no file to lock (plain memory) or no
//     watcher to be had, holder is polled every pollInterval instead.
//
// A watcher ends when its process dies: its thread stays blocked in the
// kernel, costing no CPU, for as long as the watched process lives. A
// process therefore has at most one blocked thread per other process it has
// waited for.

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mprace/mprace/runtime/internal/futex"
	"golang.org/x/sys/unix"
)

// pollInterval is how often a sleeper without a watcher looks at its holder.
const pollInterval = 100 * time.Millisecond

// gateRetry spaces out a watcher's attempts at a gate that a claimer holds
// for the few system calls of a claim.
const gateRetry = time.Millisecond

type watchers struct {
	sync.Mutex
	m      map[int]*watcher // by slot
	closed bool
}

// watcher watches one slot for the death of its process id.
type watcher struct {
	id   uint32
	dead bool                  // under watchers' mutex
	subs map[*sleeper]struct{} // under watchers' mutex
}

type sleeper struct {
	word *uint32
	bump uint32
}

// Sleep blocks while *word == val until a futex wake on word, until the
// process holder dies, or until backstop passes; it reports whether holder is
// known to be dead. See the contract above.
func (a *Arena) Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) (holderDead bool) {
	return a.SleepAny(word, val, []uint32{holder}, bump, backstop)
}

// SleepAny is Sleep for several processes: it also returns when any of
// holders dies, and reports whether one is known to be dead. Each holder is
// watched by its slot's watcher, so a waiter that depends on several
// processes (barrier parties, semaphore holders) need not poll them. Ids 0
// and this process's own are ignored.
func (a *Arena) SleepAny(word *uint32, val uint32, holders []uint32, bump uint32, backstop time.Duration) (anyDead bool) {
	var (
		s         = &sleeper{word: word, bump: bump}
		buf       [4]*watcher
		ws        = buf[:0]
		unwatched bool // some holder could not be watched: look at it after
	)
	d := backstop
	for _, h := range holders {
		if h == 0 || h == a.self {
			continue
		}
		i := slotOf(h)
		if i < 0 {
			anyDead = true // names no slot: a corrupt word, dead for all purposes
			break
		}
		if w := a.subscribe(i, h, s); w != nil {
			ws = append(ws, w)
		} else {
			unwatched = true
			d = min(d, pollInterval)
		}
	}
	start := time.Now()
	if !anyDead {
		futex.Wait(word, val, d)
	}
	a.watch.Lock()
	for _, w := range ws {
		delete(w.subs, s)
		anyDead = anyDead || w.dead
	}
	a.watch.Unlock()
	if anyDead || (!unwatched && time.Since(start) < d) {
		return anyDead
	}
	for _, h := range holders {
		if h != 0 && h != a.self && !a.Alive(h) {
			return true
		}
	}
	return false
}

// subscribe adds s to the watcher of slot i for holder, starting one if
// there is none. It returns nil when no watcher can be had (plain memory, or
// another id's watcher on the slot still finishing): then the caller polls.
func (a *Arena) subscribe(i int, holder uint32, s *sleeper) *watcher {
	if a.lockFD < 0 {
		return nil
	}
	a.watch.Lock()
	defer a.watch.Unlock()
	if a.watch.closed {
		return nil
	}
	w := a.watch.m[i]
	if w != nil && w.id != holder {
		// One of the two ids is stale; the watcher of the other is about
		// to fire or find out.
		return nil
	}
	if w == nil {
		fd, err := unix.Dup(a.lockFD)
		if err != nil {
			return nil
		}
		unix.CloseOnExec(fd)
		w = &watcher{id: holder, subs: make(map[*sleeper]struct{})}
		if a.watch.m == nil {
			a.watch.m = make(map[int]*watcher)
		}
		a.watch.m[i] = w
		go a.run(i, w, fd)
	}
	w.subs[s] = struct{}{}
	return w
}

// run is a watcher's life: it ends when w.id is dead.
func (a *Arena) run(i int, w *watcher, fd int) {
	defer unix.Close(fd)
	for {
		a.watch.Lock()
		if a.watch.closed {
			a.watch.Unlock()
			return
		}
		err := ofdLock(fd, unix.F_RDLCK, gateByte(i), false)
		a.watch.Unlock()
		if err == nil {
			break
		}
		if err != unix.EAGAIN && err != unix.EACCES {
			a.fire(i, w, fd, false)
			return
		}
		time.Sleep(gateRetry)
	}
	// With the gate held no one can claim the slot: if gen names w.id now,
	// the owner byte's write lock, if any, is w.id's.
	if g := atomic.LoadUint32(&a.slots[i].gen); ownerID(i, g) == w.id {
		if err := ofdLock(fd, unix.F_RDLCK, ownerByte(i), true); err != nil {
			// Not a death: the lock could not be waited for. Sleepers fall
			// back to their backstop and to Alive.
			a.fire(i, w, fd, false)
			return
		}
	}
	a.fire(i, w, fd, true)
}

// fire ends watcher w: it drops its locks and, when w.id died, tells each
// sleeper by changing its word and waking it.
func (a *Arena) fire(i int, w *watcher, fd int, died bool) {
	a.watch.Lock()
	defer a.watch.Unlock()
	delete(a.watch.m, i)
	w.dead = died
	ofdLock(fd, unix.F_UNLCK, ownerByte(i), false)
	ofdLock(fd, unix.F_UNLCK, gateByte(i), false)
	if a.watch.closed {
		return // the words are gone with the mapping
	}
	if a.named {
		// A truncated file must not take this goroutine down with it; its
		// sleepers find the arena broken by themselves.
		old := a.Arm()
		defer func() {
			debug.SetPanicOnFault(old)
			recover()
		}()
	}
	for s := range w.subs {
		atomic.AddUint32(s.word, s.bump)
		futex.Wake(s.word, 1<<30)
	}
}

// stopWatchers keeps watchers from touching the arena once it is closed.
func (a *Arena) stopWatchers() {
	a.watch.Lock()
	a.watch.closed = true
	a.watch.Unlock()
}
