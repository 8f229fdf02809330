package mp

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"

	"github.com/mprace/mprace/runtime/internal/rlock"
	"github.com/mprace/mprace/runtime/internal/waitq"
)

// Condition is a condition variable shared by the processes of a family,
// like Python's multiprocessing.Condition: Wait releases its lock and sleeps
// until notified, then takes the lock again.
//
// As with any condition variable, a Wait may return when nothing it waits
// for has changed (another process's notify, or a notifier killed mid-way,
// seen a second later): wait in a loop that checks the predicate, or use
// WaitFor. A waiter that dies leaves the others unaffected.
type Condition struct {
	_ noCopy
	syncObj
	lock  *Lock
	rlock *RLock
}

type condState struct {
	w waitq.Word
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
		l.valid()
		c.rlock = l
	default:
		return nil, fmt.Errorf("mp: NewCondition: the lock is a %T; want an *mp.Lock or *mp.RLock, which other processes can share", lock)
	}
	if err := c.init("Condition", sizeOf[condState]()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Condition) st() *condState { c.valid(); return syncState[condState](&c.syncObj) }

// Lock takes the condition's lock.
func (c *Condition) Lock() {
	c.valid()
	if c.lock != nil {
		c.lock.Lock()
	} else {
		c.rlock.Lock()
	}
}

// Unlock releases the condition's lock.
func (c *Condition) Unlock() {
	c.valid()
	if c.lock != nil {
		c.lock.Unlock()
	} else {
		c.rlock.Unlock()
	}
}

// Wait releases the lock, which the caller holds, sleeps until notified or
// until ctx is done, and takes the lock again before it returns, in either
// case. It returns nil, ErrOwnerDead (the lock was taken over from a dead
// holder on the way back), or ctx's error.
func (c *Condition) Wait(ctx context.Context) error {
	st := c.st()
	ctx = orBackground(ctx)
	seen := st.w.Seq()
	var depth uint32
	if c.lock != nil {
		c.lock.Unlock()
	} else {
		depth = c.rlock.releaseAll()
	}
	for st.w.Seq() == seen && ctx.Err() == nil {
		st.w.Sleep(ctx, c.ref.Arena, seen, 0, syncBackstop)
	}
	var err error
	if c.lock != nil {
		err = c.lock.LockContext(context.Background())
	} else {
		err = c.rlock.restore(context.Background(), depth)
	}
	if err != nil && !errors.Is(err, rlock.ErrOwnerDead) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("mp: Condition.Wait: %w", cerr)
	}
	return err
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

// Notify wakes up to n waiters (at least one).
func (c *Condition) Notify(n int) { c.st().w.Notify(max(n, 1)) }

// NotifyAll wakes every waiter.
func (c *Condition) NotifyAll() { c.st().w.Notify(0) }

// condWire is a Condition as it travels: its object and its lock.
type condWire struct {
	Cond  []byte
	Lock  *Lock
	RLock *RLock
}

// GobEncode sends the Condition, with its lock, to another process of the
// family.
func (c *Condition) GobEncode() ([]byte, error) {
	b, err := c.encode("Condition")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(condWire{Cond: b, Lock: c.lock, RLock: c.rlock}); err != nil {
		return nil, fmt.Errorf("mp: encode Condition: %w", err)
	}
	return buf.Bytes(), nil
}

// GobDecode attaches to a Condition sent by another process of the family.
func (c *Condition) GobDecode(b []byte) error {
	var w condWire
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
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
