package mp

import (
	"context"
	"fmt"
	"sync"

	"github.com/mprace/mprace/runtime/internal/arena"
)

const lockVersion = 1

// Every handle with a lock can stand where a sync.Locker is wanted
// (sync.Cond, helpers that take a Locker).
var (
	_ sync.Locker = (*Lock)(nil)
	_ sync.Locker = (*Value[int])(nil)
	_ sync.Locker = (*Array[int])(nil)
)

// Lock is a mutual-exclusion lock shared by the processes of a family, like
// Python's multiprocessing.Lock. It is a sync.Locker. Any process or
// goroutine may unlock it, as with sync.Mutex.
//
// If its holder dies, the next waiter takes the lock over within a second.
// LockContext reports that with ErrOwnerDead; Lock, which cannot return an
// error, takes it over silently.
type Lock struct {
	_ noCopy
	ownLock
}

// NewLock makes an unlocked Lock in the family's shared arena.
func NewLock() (*Lock, error) { return newLockIn(nil) }

// newLockIn makes a Lock in a (nil: the family arena).
func newLockIn(a *arena.Arena) (*Lock, error) {
	ref, err := newObject(a, arena.KindLock, lockVersion, 0, 8, "NewLock")
	if err != nil {
		return nil, err
	}
	l := &Lock{}
	l.bindLock(ref)
	return l, nil
}

// Lock acquires the lock, waiting as long as it takes.
func (l *Lock) Lock() {
	l.valid()
	l.lock()
}

// LockContext acquires the lock or gives up when ctx is done. It returns nil
// or ErrOwnerDead with the lock held, or ctx's error without it.
func (l *Lock) LockContext(ctx context.Context) error {
	l.valid()
	if err := l.lockContext(ctx); err != nil {
		return fmt.Errorf("mp: Lock: %w", err)
	}
	return nil
}

// TryLock acquires the lock if it is free, or if its holder died, and
// reports whether it did. TryLockErr tells the two apart.
func (l *Lock) TryLock() bool {
	l.valid()
	return l.tryLock()
}

// TryLockErr acquires the lock if it is free or its holder died, without
// waiting. It returns nil or ErrOwnerDead with the lock held (as LockContext
// does), or ErrLocked without it while a live process holds it.
func (l *Lock) TryLockErr() error {
	l.valid()
	switch err := l.tryLockErr(); err {
	case nil, errLocked:
		return err
	default:
		return fmt.Errorf("mp: Lock: %w", err)
	}
}

// Unlock releases the lock. Unlocking a free lock panics.
func (l *Lock) Unlock() {
	l.valid()
	l.unlock()
}

func (l *Lock) valid() {
	if l.mu == nil {
		panic("mp: use of a Lock not made by NewLock")
	}
}

// GobEncode sends the lock to another process of the family, as a worker
// argument or a message.
func (l *Lock) GobEncode() ([]byte, error) {
	if l == nil {
		return nil, nilHandle("Lock")
	}
	if l.mu == nil {
		return nil, fmt.Errorf("mp: encode a Lock not made by NewLock")
	}
	return l.ref.Encode(arena.KindLock, 0), nil
}

// GobDecode attaches to a lock sent by another process of the family.
func (l *Lock) GobDecode(b []byte) error {
	ref, err := arena.Decode(b, arena.KindLock, lockVersion, 0)
	if err != nil {
		return fmt.Errorf("mp: decode Lock: %w", err)
	}
	l.bindLock(ref)
	return nil
}
