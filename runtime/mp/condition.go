package mp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/futex"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// Condition is a condition variable shared by the processes of a family,
// like Python's multiprocessing.Condition: Wait releases its lock and sleeps
// until notified, then takes the lock again.
//
// As in Python, a Wait returns only when a Notify or NotifyAll chose it, when
// its context ends, or when the lock's holder died while it waited (then it
// returns ErrOwnerDead: what the lock guards may be half changed, and a
// notification the dead process was about to send is lost, so every waiter
// is woken that way and should look at the state again). Notify(n) wakes
// the n longest waiting, skipping waiters whose process died. A predicate
// is still best checked in a loop, or with WaitFor: another process may
// change the state between the notification and the waiter's retaking the
// lock.
type Condition struct {
	_ noCopy
	syncObj
	lock  *Lock
	rlock *RLock
}

// ErrTooManyWaiters reports a Condition.Wait while maxCondWaiters others,
// in live processes, wait on the same Condition.
var ErrTooManyWaiters = errors.New("mp: too many waiters on this condition")

// maxCondWaiters is how many goroutines, in all processes, can wait on one
// Condition at once.
const maxCondWaiters = 256

// States of a waiter's slot. The waiter sleeps on its slot's state word;
// whoever changes it from slotWaiting wakes it.
const (
	slotFree      = iota
	slotWaiting   // registered, not yet chosen
	slotNotified  // chosen by Notify or NotifyAll
	slotOwnerDied // woken because the lock's holder died
)

// condState: a lock over the slots, the last ticket handed out (tickets
// order the waiters, oldest first), and one slot per waiter. A slot is
// filled ticket and id first and state last, and changed by single stores
// of its state, so a process killed in the middle of a change leaves every
// slot whole.
type condState struct {
	mu     rlock.State
	ticket uint32
	_      uint32
	slots  [maxCondWaiters]condSlot
}

type condSlot struct {
	state, id, ticket uint32
}

// NewCondition makes a Condition over lock, which must be a *Lock or an
// *RLock of the same family; nil makes a new RLock, as Python does.
func NewCondition(lock sync.Locker) (*Condition, error) {
	c := &Condition{}
	switch l := lock.(type) {
	case nil:
		rl, err := NewRLock()
		if err != nil {
			return nil, err
		}
		c.rlock = rl
	case *Lock:
		l.valid()
		c.lock = l
	case *RLock:
		l.valid("RLock", "NewRLock")
		c.rlock = l
	default:
		return nil, fmt.Errorf("mp: NewCondition: the lock is a %T; want an *mp.Lock or *mp.RLock, which other processes can share", lock)
	}
	if err := c.init("Condition", sizeOf[condState]()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Condition) st() *condState {
	c.valid("Condition", "NewCondition")
	return syncState[condState](&c.syncObj)
}

// Lock takes the condition's lock.
func (c *Condition) Lock() {
	c.valid("Condition", "NewCondition")
	if c.lock != nil {
		c.lock.Lock()
	} else {
		c.rlock.Lock()
	}
}

// Unlock releases the condition's lock.
func (c *Condition) Unlock() {
	c.valid("Condition", "NewCondition")
	if c.lock != nil {
		c.lock.Unlock()
	} else {
		c.rlock.Unlock()
	}
}

// Wait releases the lock, which the caller holds, sleeps until notified or
// until ctx is done, and takes the lock again before it returns, in either
// case. It returns nil (notified), ErrOwnerDead (the lock's holder died
// while it waited, or the lock was taken over from a dead holder on the way
// back), ctx's error, or ErrTooManyWaiters (then it never released the
// lock).
func (c *Condition) Wait(ctx context.Context) error {
	st := c.st()
	ctx = orBackground(ctx)
	slot, err := c.enter(st)
	if err != nil {
		return err
	}
	var depth uint32
	if c.lock != nil {
		c.lock.Unlock()
	} else {
		depth = c.rlock.releaseAll()
	}
	woken := c.sleep(ctx, st, slot)
	if c.lock != nil {
		err = c.lock.LockContext(context.Background())
	} else {
		err = c.rlock.restore(context.Background(), depth)
	}
	if err != nil && !errors.Is(err, rlock.ErrOwnerDead) {
		return err
	}
	switch woken {
	case slotNotified:
	case slotOwnerDied:
		return fmt.Errorf("mp: Condition.Wait: the lock's holder died: %w", ErrOwnerDead)
	default:
		return fmt.Errorf("mp: Condition.Wait: %w", ctx.Err())
	}
	return err
}

// lockState takes the slots' lock. A holder that died inside it left every
// slot whole (see condState).
func (c *Condition) lockState(st *condState) { _ = st.mu.Lock(c.self, c.ref.Arena) }

// enter registers the caller as the newest waiter, while it still holds the
// condition's lock, so that a notifier that takes the lock next sees it.
func (c *Condition) enter(st *condState) (*condSlot, error) {
	c.lockState(st)
	defer st.mu.Unlock()
	var free *condSlot
	for i := range st.slots {
		if s := &st.slots[i]; atomic.LoadUint32(&s.state) == slotFree {
			free = s
			break
		}
	}
	if free == nil {
		for i := range st.slots {
			if s := &st.slots[i]; !c.ref.Arena.Alive(s.id) {
				free = s
				break
			}
		}
	}
	if free == nil {
		return nil, fmt.Errorf("mp: Condition.Wait: %w (%d)", ErrTooManyWaiters, maxCondWaiters)
	}
	st.ticket++
	free.ticket, free.id = st.ticket, c.self
	atomic.StoreUint32(&free.state, slotWaiting)
	return free, nil
}

// sleep waits until slot is chosen, or ctx is done, and frees the slot. It
// returns what woke it: slotNotified, slotOwnerDied, or slotWaiting for ctx.
func (c *Condition) sleep(ctx context.Context, st *condState, slot *condSlot) uint32 {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { futex.Wake(&slot.state, math.MaxInt32) })
		defer stop()
	}
	for {
		if s := atomic.LoadUint32(&slot.state); s != slotWaiting {
			atomic.StoreUint32(&slot.state, slotFree)
			return s
		}
		if ctx.Err() != nil {
			// A notification that chose this waiter as it gave up is
			// taken, not lost: it returns as notified.
			c.lockState(st)
			s := atomic.LoadUint32(&slot.state)
			atomic.StoreUint32(&slot.state, slotFree)
			st.mu.Unlock()
			return s
		}
		// The lock's holder is watched: if it dies holding the lock, the
		// notification it was about to send never comes.
		holder := c.holder()
		if holder == c.self {
			holder = 0
		}
		if holder != 0 && !c.ref.Arena.Alive(holder) {
			c.holderDied(st, holder)
			continue
		}
		backstop := syncBackstop
		if holder == 0 {
			// The lock was free: whoever takes it next, and may die
			// before notifying, cannot be watched from here. Look again
			// each second, so that such a death strands no waiter longer.
			backstop = unwatchedBackstop
		}
		c.ref.Arena.Sleep(&slot.state, slotWaiting, holder, 0, backstop)
	}
}

// holder returns the process holding the condition's lock, or 0.
func (c *Condition) holder() uint32 {
	if c.lock != nil {
		return c.lock.mu.Holder()
	}
	return c.rlock.st().mu.Holder()
}

// holderDied wakes every waiter with slotOwnerDied, if the lock is still
// held by the dead process holder.
func (c *Condition) holderDied(st *condState, holder uint32) {
	c.lockState(st)
	defer st.mu.Unlock()
	if c.holder() != holder {
		return
	}
	for i := range st.slots {
		if s := &st.slots[i]; atomic.CompareAndSwapUint32(&s.state, slotWaiting, slotOwnerDied) {
			futex.Wake(&s.state, math.MaxInt32)
		}
	}
}

// WaitFor waits until pred, called with the lock held, returns true, or
// until ctx is done (then it returns ctx's error). The caller holds the
// lock, and holds it again when WaitFor returns.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		if err := c.Wait(ctx); err != nil && !errors.Is(err, rlock.ErrOwnerDead) {
			return err
		}
	}
	return nil
}

// Notify wakes the n longest waiting waiters (at least one), or as many as
// there are. Python asks for the lock to be held; so does a Notify that
// must reach only waiters that registered before a change it made under
// the lock.
func (c *Condition) Notify(n int) {
	st := c.st()
	n = max(n, 1)
	var chosen []*uint32
	c.lockState(st)
	for len(chosen) < n {
		var oldest *condSlot
		for i := range st.slots {
			s := &st.slots[i]
			if atomic.LoadUint32(&s.state) == slotWaiting && (oldest == nil || int32(s.ticket-oldest.ticket) < 0) {
				oldest = s
			}
		}
		if oldest == nil {
			break
		}
		if !c.ref.Arena.Alive(oldest.id) {
			atomic.StoreUint32(&oldest.state, slotFree) // a waiter that died
			continue
		}
		atomic.StoreUint32(&oldest.state, slotNotified)
		chosen = append(chosen, &oldest.state)
	}
	st.mu.Unlock()
	// A slot freed and taken again meanwhile gets a wake-up it re-checks.
	for _, w := range chosen {
		futex.Wake(w, math.MaxInt32)
	}
}

// NotifyAll wakes every waiter.
func (c *Condition) NotifyAll() {
	st := c.st()
	var chosen []*uint32
	c.lockState(st)
	for i := range st.slots {
		if s := &st.slots[i]; atomic.CompareAndSwapUint32(&s.state, slotWaiting, slotNotified) {
			chosen = append(chosen, &s.state)
		}
	}
	st.mu.Unlock()
	for _, w := range chosen {
		futex.Wake(w, math.MaxInt32)
	}
}

// condWire is a Condition as it travels: its object and its lock.
type condWire struct {
	Cond  []byte
	Lock  *Lock
	RLock *RLock
}

// GobEncode sends the Condition, with its lock, to another process of the
// family.
func (c *Condition) GobEncode() ([]byte, error) {
	if c == nil {
		return nil, nilHandle("Condition")
	}
	b, err := c.encode("Condition")
	if err != nil {
		return nil, err
	}
	enc, err := codec.Append(nil, condWire{Cond: b, Lock: c.lock, RLock: c.rlock})
	if err != nil {
		return nil, fmt.Errorf("mp: encode Condition: %w", err)
	}
	return enc, nil
}

// GobDecode attaches to a Condition sent by another process of the family.
func (c *Condition) GobDecode(b []byte) error {
	w, err := codec.Decode[condWire](b)
	if err != nil {
		return fmt.Errorf("mp: decode Condition: %w", err)
	}
	if (w.Lock == nil) == (w.RLock == nil) {
		return fmt.Errorf("mp: decode Condition: %w: want exactly one lock", ErrCorrupt)
	}
	if err := c.decode(w.Cond, "Condition", sizeOf[condState]()); err != nil {
		return err
	}
	c.lock, c.rlock = w.Lock, w.RLock
	return nil
}
