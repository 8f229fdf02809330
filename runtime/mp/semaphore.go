package mp

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/rlock"
	"github.com/mprace/mprace/runtime/internal/waitq"
)

// Semaphore errors.
var (
	// ErrOverReleased reports a Release of a BoundedSemaphore beyond its
	// initial value (Python's ValueError).
	ErrOverReleased = errors.New("mp: semaphore released more times than it was acquired")
	// ErrTooManyHolders reports an Acquire while maxHolders other live
	// processes hold permits of the same Semaphore.
	ErrTooManyHolders = errors.New("mp: too many processes hold permits of this semaphore")
)

// maxHolders is how many processes can hold permits of one Semaphore at once.
const maxHolders = 64

// Semaphore is a counter of permits shared by the processes of a family,
// like Python's multiprocessing.Semaphore: Acquire takes a permit, waiting
// while there is none, Release gives one back.
//
// Unlike Python's, it is robust: it keeps account of the permits each
// process holds, and the permits of a process that dies are returned within
// a second to the processes waiting. A Release by a process that holds no
// permit gives back one held by another (the usual signalling pattern, where
// one process acquires and another releases), or, when no one holds any,
// adds a permit (a BoundedSemaphore refuses that with ErrOverReleased).
type Semaphore struct {
	_ noCopy
	syncObj
}

// semState: total permits (held or free), free permits (always total minus
// the sum of holders, and recomputed from them after a process dies in the
// middle of a change), the bound (0: none), and who holds how many.
type semState struct {
	mu      rlock.State
	total   int32
	free    int32
	bound   int32
	_       int32
	w       waitq.Word
	holders [maxHolders]struct{ id, n uint32 }
}

// NewSemaphore makes a Semaphore with n free permits.
func NewSemaphore(n int) (*Semaphore, error) { return newSemaphore(n, false) }

// NewBoundedSemaphore makes a Semaphore with n free permits whose Release
// fails with ErrOverReleased rather than raise the count above n.
func NewBoundedSemaphore(n int) (*Semaphore, error) { return newSemaphore(n, true) }

func newSemaphore(n int, bounded bool) (*Semaphore, error) {
	if n < 0 || n > 1<<30 {
		return nil, fmt.Errorf("mp: NewSemaphore(%d): want 0 to %d permits", n, 1<<30)
	}
	s := &Semaphore{}
	if err := s.init("Semaphore", sizeOf[semState]()); err != nil {
		return nil, err
	}
	st := s.st()
	st.total, st.free = int32(n), int32(n)
	if bounded {
		st.bound = int32(n)
	}
	return s, nil
}

func (s *Semaphore) st() *semState {
	s.valid("Semaphore", "NewSemaphore")
	return syncState[semState](&s.syncObj)
}

// lock takes the state's lock; after a holder died inside it, the free
// count is recomputed from the accounts.
func (s *Semaphore) lock(st *semState) {
	if err := st.mu.Lock(s.self, s.ref.Arena); errors.Is(err, rlock.ErrOwnerDead) {
		var held int32
		for i := range st.holders {
			held += int32(st.holders[i].n)
		}
		st.free = max(0, st.total-held)
	}
}

// Acquire takes a permit, waiting while there is none, until ctx is done.
// It returns nil with a permit, or ctx's error (or ErrTooManyHolders)
// without one.
func (s *Semaphore) Acquire(ctx context.Context) error {
	st := s.st()
	ctx = orBackground(ctx)
	for round := 0; ; round++ {
		ok, err := s.take(st)
		if ok || err != nil {
			return err
		}
		if round == 0 && waitq.Spin(func() bool { return atomic.LoadInt32(&st.free) > 0 }) {
			continue
		}
		s.lock(st)
		seen := st.w.Seq()
		free, watch := st.free, s.otherHolders(st)
		st.mu.Unlock()
		if free > 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mp: Semaphore.Acquire: %w", err)
		}
		// Every other holder is watched: the death of any wakes this
		// sleep, and its permits come back.
		if st.w.SleepAny(ctx, s.ref.Arena, seen, watch, syncBackstop) {
			s.heal(st)
		}
	}
}

// TryAcquire takes a permit if one is free (or held by a dead process) and
// reports whether it did.
func (s *Semaphore) TryAcquire() bool {
	st := s.st()
	if ok, _ := s.take(st); ok {
		return true
	}
	if s.heal(st) {
		ok, _ := s.take(st)
		return ok
	}
	return false
}

// take takes a free permit if there is one.
func (s *Semaphore) take(st *semState) (bool, error) {
	s.lock(st)
	defer st.mu.Unlock()
	if st.free <= 0 {
		return false, nil
	}
	e := -1
	for i := range st.holders {
		h := &st.holders[i]
		if h.id == s.self {
			e = i
			break
		}
		if e < 0 && h.n == 0 {
			e = i
		}
	}
	if e < 0 {
		return false, fmt.Errorf("mp: Semaphore.Acquire: %w (%d)", ErrTooManyHolders, maxHolders)
	}
	// The account first: a death between the two stores leaves one permit
	// too few free, which the recount after ErrOwnerDead restores.
	h := &st.holders[e]
	h.id = s.self
	h.n++
	st.free--
	return true, nil
}

// otherHolders returns the processes other than this one that hold
// permits, to watch while sleeping. st.mu is held.
func (s *Semaphore) otherHolders(st *semState) []uint32 {
	var ids []uint32
	for i := range st.holders {
		if h := st.holders[i]; h.n > 0 && h.id != s.self {
			ids = append(ids, h.id)
		}
	}
	return ids
}

// heal returns the permits of dead holders, and reports whether it did.
func (s *Semaphore) heal(st *semState) bool {
	a := s.ref.Arena
	s.lock(st)
	defer st.mu.Unlock()
	healed := false
	for i := range st.holders {
		h := &st.holders[i]
		if h.n == 0 || h.id == s.self || a.Alive(h.id) {
			continue
		}
		n := h.n
		h.n, h.id = 0, 0
		st.free += int32(n)
		healed = true
	}
	if healed {
		st.w.Notify(0)
	}
	return healed
}

// Release gives a permit back and wakes a waiter.
func (s *Semaphore) Release() error {
	st := s.st()
	s.lock(st)
	e := -1
	for i := range st.holders {
		if h := st.holders[i]; h.n > 0 && (e < 0 || h.id == s.self) {
			e = i
			if h.id == s.self {
				break
			}
		}
	}
	switch {
	case e >= 0:
		st.holders[e].n--
	case st.bound != 0 || st.total >= 1<<30:
		st.mu.Unlock()
		return fmt.Errorf("mp: Semaphore.Release: %w", ErrOverReleased)
	default:
		st.total++
	}
	st.free++
	st.mu.Unlock()
	// Every waiter looks: waking one that is leaving on cancellation would
	// strand the permit until another's backstop.
	st.w.Notify(0)
	return nil
}

// Value returns the number of free permits, stale as soon as it returns.
func (s *Semaphore) Value() int {
	st := s.st()
	return int(atomic.LoadInt32(&st.free))
}

// GobEncode sends the Semaphore to another process of the family.
func (s *Semaphore) GobEncode() ([]byte, error) { return s.encode("Semaphore") }

// GobDecode attaches to a Semaphore sent by another process of the family.
func (s *Semaphore) GobDecode(b []byte) error {
	return s.decode(b, "Semaphore", sizeOf[semState]())
}
