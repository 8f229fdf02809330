package mp

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/layout"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// Every Value and Array object starts with two locks: mu, the handle's own
// lock that users take (Python's get_lock()) and Update holds, and wmu, which
// only serializes writers of values too wide for one atomic word. They are
// separate so that v.Lock(); v.Store(x); v.Unlock() does not deadlock.
const cellHeader = 32

// width is how a value of T is stored: in one 32- or 64-bit word, read and
// written atomically, or in a wider region guarded by wmu.
type width uint8

const (
	wUnset width = iota // a handle not made by a constructor
	w32
	w64
	wWide
)

func widthOf[T any]() width {
	switch unsafe.Sizeof(*new(T)) {
	case 1, 2, 4:
		return w32
	case 8:
		return w64
	}
	return wWide
}

// stride is how many bytes one value of T takes in shared memory.
func stride[T any](w width) uintptr {
	switch w {
	case w32:
		return 4
	case w64:
		return 8
	}
	return (unsafe.Sizeof(*new(T)) + 7) &^ 7
}

// rawType checks T for storage in shared memory and fingerprints it.
func rawType[T any](what string) (uint64, error) {
	t := reflect.TypeFor[T]()
	if err := layout.Raw(t); err != nil {
		return 0, fmt.Errorf("mp: %s[%s]: %w; use a Queue, Dict or List, which encode values", what, t, err)
	}
	return layout.Fingerprint(t), nil
}

// ownLock is what every handle with a lock holds: its object, whose data
// starts with the lock's shared state, and this process's owner id.
type ownLock struct {
	ref  arena.Ref
	mu   *rlock.State
	self uint32
	// named is set for an object of a Manager, whose file may be truncated
	// under it: its methods run guarded (see guarded).
	named bool
	// release is rlock.State.Unlock, guarded for a Manager's object: one
	// indirect call, so that unlock still inlines into Unlock.
	release func(*rlock.State)
}

func (o *ownLock) bindLock(ref arena.Ref) {
	o.ref, o.mu, o.self = ref, (*rlock.State)(ref.Data), ref.Arena.Self()
	o.named = ref.Arena.Named()
	o.release = (*rlock.State).Unlock
	if o.named {
		a := ref.Arena
		o.release = func(s *rlock.State) { guardedDo(a, s.Unlock) }
	}
}

// guardedDo is guarded for f without a result.
func guardedDo(a *arena.Arena, f func()) {
	guarded(a, func() struct{} { f(); return struct{}{} })
}

// guarded runs f, a method on an object of a Manager, so that a fault in the
// Manager's memory (its file was truncated) panics with an error wrapping
// ErrCorrupt instead of killing the process. Methods that return an error
// use arena.Recover instead, to return it.
func guarded[R any](a *arena.Arena, f func() R) R { return guardedAs(a, false, f) }

// guardedOwn is guarded for a method that releases only the locks it took
// itself (Update): a lock found free at its release was changed under it,
// damage to the Manager's file (ErrCorrupt), not a bug of the caller.
func guardedOwn[R any](a *arena.Arena, f func() R) R { return guardedAs(a, true, f) }

func guardedAs[R any](a *arena.Arena, own bool, f func() R) R {
	if err := a.Usable(); err != nil {
		panic(fmt.Errorf("mp: %w", err))
	}
	defer a.RecoverPanic(a.Arm(), own)
	return f()
}

// lock takes the lock, taking it over from a dead holder without telling:
// the methods that cannot return an error (Lock, Update) use it.
func (o *ownLock) lock() {
	if o.named {
		o.lockNamed()
		return
	}
	_ = o.mu.Lock(o.self, o.ref.Arena)
}

func (o *ownLock) unlock() { o.release(o.mu) }

// lockNamed stays out of line, so that lock of the family's objects stays
// small.
//
//go:noinline
func (o *ownLock) lockNamed() {
	guarded(o.ref.Arena, func() error { return o.mu.Lock(o.self, o.ref.Arena) })
}

// tryLock takes the lock if it is free or its holder died. On a Manager
// whose file was truncated it panics with ErrCorrupt, having no error to
// return.
func (o *ownLock) tryLock() bool {
	if !o.named && o.mu.TryLock(o.self) {
		return true
	}
	switch err := o.tryLockErr(); {
	case err == errLocked:
		return false
	case err == nil || errors.Is(err, ErrOwnerDead):
		return true
	default:
		panic(fmt.Errorf("mp: TryLock: %w", err))
	}
}

// errLocked is tryLockErr's answer for a lock a live process holds.
var errLocked = ErrLocked

// tryLockErr returns nil or ErrOwnerDead with the lock taken, errLocked
// without it, or ErrCorrupt for a Manager whose file was truncated.
func (o *ownLock) tryLockErr() (err error) {
	if a := o.ref.Arena; o.named {
		if e := a.Usable(); e != nil {
			return e
		}
		defer a.Recover(a.Arm(), &err)
	}
	ok, err := o.mu.TryLockOwners(o.self, o.ref.Arena)
	if err == nil && !ok {
		return errLocked
	}
	return err
}

// lockContext returns nil, rlock.ErrOwnerDead (lock held), ctx's error (lock
// not held) or ErrCorrupt, for the caller to wrap.
func (o *ownLock) lockContext(ctx context.Context) (err error) {
	ctx = orBackground(ctx)
	if a := o.ref.Arena; o.named {
		if e := a.Usable(); e != nil {
			return e
		}
		defer a.Recover(a.Arm(), &err)
	}
	return o.mu.LockContext(ctx, o.self, o.ref.Arena)
}

// cell is what Value and Array share: the object and its two locks.
type cell struct {
	ownLock
	wmu *rlock.State
	fp  uint64
}

func (c *cell) bind(ref arena.Ref, fp uint64) {
	c.bindLock(ref)
	c.fp = fp
	c.wmu = (*rlock.State)(unsafe.Add(ref.Data, 8))
}

func (c *cell) data() unsafe.Pointer { return unsafe.Add(c.ref.Data, cellHeader) }

func (c *cell) lockWide()   { _ = c.wmu.Lock(c.self, c.ref.Arena) }
func (c *cell) unlockWide() { c.wmu.Unlock() }
func (c *cell) lockContextWhat(ctx context.Context, what string) error {
	if err := c.lockContext(ctx); err != nil {
		return fmt.Errorf("mp: %s lock: %w", what, err)
	}
	return nil
}

func (c *cell) encode(kind arena.Kind, what string) ([]byte, error) {
	if c.mu == nil {
		return nil, fmt.Errorf("mp: encode a %s not made by its constructor", what)
	}
	return c.ref.Encode(kind, c.fp), nil
}

// nilHandle is what GobEncode returns for a nil handle. The package's own
// codec sends a nil pointer as nil without calling it; encoding/gob, which
// users may put handles through, calls it for a nil element of a slice,
// array or map, where gob has no way to send nil.
func nilHandle(what string) error {
	return fmt.Errorf("mp: encode a nil *mp.%s: encoding/gob cannot send a nil element of a slice, array or map", what)
}

// newObject allocates an object in a, or in the family arena if a is nil.
func newObject(a *arena.Arena, kind arena.Kind, version uint16, fp uint64, length uintptr, what string) (arena.Ref, error) {
	if a == nil {
		var err error
		if a, err = arena.Family(); err != nil {
			return arena.Ref{}, err
		}
	}
	ref, err := a.NewObject(kind, version, fp, int(length))
	if err != nil {
		return arena.Ref{}, fmt.Errorf("mp: %s: %w", what, err)
	}
	return ref, nil
}

// Word access for values of at most 8 bytes. T's bytes sit at the start of
// the word in memory order, the same in every process of one architecture.

func fromBits32[T any](w uint32) T { return *(*T)(unsafe.Pointer(&w)) }
func fromBits64[T any](w uint64) T { return *(*T)(unsafe.Pointer(&w)) }

func toBits32[T any](x T) uint32 {
	var w uint32
	*(*T)(unsafe.Pointer(&w)) = x
	return w
}

func toBits64[T any](x T) uint64 {
	var w uint64
	*(*T)(unsafe.Pointer(&w)) = x
	return w
}

// typeOf names T in messages without boxing a T, which for a large T would
// copy it to the heap.
func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }
