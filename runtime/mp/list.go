package mp

// A List's object data has the same shape as a Dict's: its own lock, eight
// reserved bytes, and the header of a shared list (runtime/internal/table).

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/table"
)

const listVersion = 1

// List is a list of T in shared memory, like the list of Python's
// multiprocessing.Manager without the server process. Elements are encoded
// as Dict's values are.
//
// Each method is atomic, but Get followed by Set is not: to change an
// element based on what it was, use Update, or hold the List's own Lock
// across both. Indexes are checked when the method runs, since another
// process may have shortened the List since the caller looked at Len: an
// index outside it is an error wrapping ErrOutOfRange.
type List[T any] struct {
	_ noCopy
	ownLock
	l *table.List
	c itemCodec[T]
}

// NewList makes an empty List in the family's shared arena.
func NewList[T any]() (*List[T], error) {
	a, err := arena.Family()
	if err != nil {
		return nil, err
	}
	return newListIn[T](a)
}

func listFP[T any]() uint64 { return containerFP("List", reflect.TypeFor[T]()) }

func newListIn[T any](a *arena.Arena) (*List[T], error) {
	ref, err := a.NewObject(arena.KindList, listVersion, listFP[T](), containerSize)
	if err != nil {
		return nil, fmt.Errorf("mp: NewList[%s]: %w", reflect.TypeFor[T](), err)
	}
	l := &List[T]{}
	if err := l.bind(ref); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *List[T]) bind(ref arena.Ref) error {
	if ref.Len < containerSize {
		return fmt.Errorf("%w: List object of %d bytes", ErrCorrupt, ref.Len)
	}
	l.bindLock(ref)
	l.l = table.AttachList(ref.Arena, unsafe.Add(ref.Data, containerHeader))
	l.c = newItemCodec[T]()
	return nil
}

func (l *List[T]) valid() {
	if l.l == nil {
		panic(fmt.Sprintf("mp: use of a List[%s] not made by NewList", reflect.TypeFor[T]()))
	}
	if l.ref.Arena.Closed() {
		panic(fmt.Sprintf("mp: use of a List[%s] after its Manager was closed", reflect.TypeFor[T]()))
	}
}

func (l *List[T]) fail(op string, err error) error {
	return fmt.Errorf("mp: List[%s].%s: %w", reflect.TypeFor[T](), op, err)
}

// Get returns element i.
func (l *List[T]) Get(i int) (x T, err error) {
	err = l.get(i, &x)
	return x, err
}

// get is Get into *x. Get stays small enough to inline, so that the T is the
// caller's own variable (on the heap beyond 128 KiB), never a temporary in a
// frame: a raw T may be hundreds of megabytes.
func (l *List[T]) get(i int, x *T) (err error) {
	l.valid()
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return l.fail("Get", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	if err := l.l.Lock(); err != nil {
		return l.fail("Get", err)
	}
	b, err := l.l.Get(i, l.c.dst(x))
	l.l.Unlock()
	if err == nil {
		err = l.c.decodeInto(b, x)
	}
	if err != nil {
		l.c.zero(x)
		return l.fail("Get", err)
	}
	return nil
}

// Set replaces element i.
func (l *List[T]) Set(i int, x T) (err error) {
	l.valid()
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return l.fail("Set", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	b, err := l.c.encode(&x)
	if err != nil {
		return l.fail("Set", err)
	}
	if err := l.l.Lock(); err != nil {
		return l.fail("Set", err)
	}
	err = l.l.Set(i, b)
	l.l.Unlock()
	if err != nil {
		return l.fail("Set", err)
	}
	return nil
}

// Append adds x at the end of the List.
func (l *List[T]) Append(x T) (err error) {
	l.valid()
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return l.fail("Append", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	b, err := l.c.encode(&x)
	if err != nil {
		return l.fail("Append", err)
	}
	if err := l.l.Lock(); err != nil {
		return l.fail("Append", err)
	}
	err = l.l.Append(b)
	l.l.Unlock()
	if err != nil {
		return l.fail("Append", err)
	}
	return nil
}

// Pop removes the last element and returns it; ok is false if the List was
// empty. The element's memory is reused by later appends.
func (l *List[T]) Pop() (x T, ok bool, err error) {
	l.valid()
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return x, false, l.fail("Pop", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	if err := l.l.Lock(); err != nil {
		return x, false, l.fail("Pop", err)
	}
	b, ok, err := l.l.Pop(l.c.dst(&x))
	l.l.Unlock()
	if err == nil && ok {
		err = l.c.decodeInto(b, &x)
	}
	if err != nil {
		// The element is gone from the List either way.
		l.c.zero(&x)
		return x, ok, l.fail("Pop", err)
	}
	return x, ok, nil
}

// Len returns the List's length.
func (l *List[T]) Len() int { l.valid(); return l.l.Len() }

// Update replaces element i with f(element) atomically and returns the new
// element. It holds the List's own lock, and the list's while f runs, so f
// must be quick and must not use the List; a goroutine holding the List's
// lock must not call Update.
func (l *List[T]) Update(i int, f func(T) T) (_ T, err error) {
	l.valid()
	var zero T
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return zero, l.fail("Update", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	l.lock()
	defer l.unlock()
	if err := l.l.Lock(); err != nil {
		return zero, l.fail("Update", err)
	}
	defer l.l.Unlock()
	var old T
	b, err := l.l.Get(i, l.c.dst(&old))
	if err == nil {
		err = l.c.decodeInto(b, &old)
	}
	if err != nil {
		return zero, l.fail("Update", err)
	}
	x := f(old)
	if b, err = l.c.encode(&x); err != nil {
		return zero, l.fail("Update", err)
	}
	if err := l.l.Set(i, b); err != nil {
		return zero, l.fail("Update", err)
	}
	return x, nil
}

// Items returns a snapshot of the List: its elements at one moment.
func (l *List[T]) Items() (_ []T, err error) {
	l.valid()
	if a := l.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return nil, l.fail("Items", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	var buf []byte
	var ends []int
	if err := l.l.Lock(); err != nil {
		return nil, l.fail("Items", err)
	}
	err = l.l.Each(func(_ int, v []byte) error {
		buf = append(buf, v...)
		ends = append(ends, len(buf))
		return nil
	})
	l.l.Unlock()
	if err != nil {
		return nil, l.fail("Items", err)
	}
	out := make([]T, len(ends))
	start := 0
	for i, end := range ends {
		if out[i], err = l.c.decode(buf[start:end]); err != nil {
			return nil, l.fail("Items", err)
		}
		start = end
	}
	return out, nil
}

// Lock acquires the List's own lock, for a transaction of several steps.
// Update takes the same lock; the other methods do not. If the holder died,
// Lock takes the lock over silently; LockContext reports it.
func (l *List[T]) Lock() { l.valid(); l.lock() }

// Unlock releases the List's own lock.
func (l *List[T]) Unlock() { l.valid(); l.unlock() }

// TryLock acquires the List's own lock if it is free.
func (l *List[T]) TryLock() bool { l.valid(); return l.tryLock() }

// LockContext acquires the List's own lock or gives up when ctx is done; see
// Dict.LockContext.
func (l *List[T]) LockContext(ctx context.Context) error {
	l.valid()
	if err := l.lockContext(ctx); err != nil {
		return l.fail("Lock", err)
	}
	return nil
}

// GobEncode sends the List's handle to another process that has its arena
// open.
func (l *List[T]) GobEncode() ([]byte, error) {
	if l == nil {
		return nil, nilHandle("List")
	}
	if l.l == nil {
		return nil, fmt.Errorf("mp: encode a List[%s] not made by NewList", reflect.TypeFor[T]())
	}
	return l.ref.Encode(arena.KindList, listFP[T]()), nil
}

// GobDecode attaches to a List sent by another process.
func (l *List[T]) GobDecode(b []byte) error {
	ref, err := arena.Decode(b, arena.KindList, listVersion, listFP[T]())
	if err == nil {
		err = l.bind(ref)
	}
	if err != nil {
		return fmt.Errorf("mp: decode List[%s]: %w", reflect.TypeFor[T](), err)
	}
	return nil
}
