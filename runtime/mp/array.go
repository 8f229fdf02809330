package mp

// An Array's data, after the cell header: its length and stride (checked
// against T on attach), then the elements. Elements of 1, 2, 4 and 8 bytes
// sit in 4- or 8-byte words and are read and written atomically; wider
// elements are read and written under wmu.

import (
	"context"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
)

const (
	arrayVersion = 1
	arrayHeader  = 16
)

// Array is a fixed-length shared array of T, like Python's
// multiprocessing.Array. T must be a fixed-size type without pointers. Get and
// Set of one element are atomic; an index out of range panics, as it does for
// a slice.
type Array[T any] struct {
	_ noCopy
	cell
	w      width
	elems  unsafe.Pointer
	stride uintptr
	// bounds has n zero-size elements; indexing it makes the runtime's own
	// bounds check, and its panic, for free.
	bounds []struct{}
}

// NewArray makes a shared Array of n zero elements in the family's arena.
func NewArray[T any](n int) (*Array[T], error) {
	a := &Array[T]{}
	if err := a.init(nil, n, "Array"); err != nil {
		return nil, err
	}
	return a, nil
}

// init makes the Array in ar (nil: the family arena).
func (a *Array[T]) init(ar *arena.Arena, n int, what string) error {
	fp, err := rawType[T](what)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("New%s[%s](%d)", what, typeOf[T](), n)
	w := widthOf[T]()
	st := stride[T](w)
	if n < 0 || (st > 0 && uint64(n) > (1<<62)/uint64(st)) {
		return fmt.Errorf("mp: %s: length out of range", name)
	}
	ref, err := newObject(ar, arena.KindArray, arrayVersion, fp, cellHeader+arrayHeader+uintptr(n)*st, name)
	if err != nil {
		return err
	}
	hdr := (*[2]uint64)(unsafe.Add(ref.Data, cellHeader))
	hdr[0], hdr[1] = uint64(n), uint64(st)
	return a.bind(ref, fp)
}

func (a *Array[T]) bind(ref arena.Ref, fp uint64) error {
	if ref.Len < cellHeader+arrayHeader {
		return fmt.Errorf("%w: Array object of %d bytes", ErrCorrupt, ref.Len)
	}
	w := widthOf[T]()
	st := stride[T](w)
	hdr := (*[2]uint64)(unsafe.Add(ref.Data, cellHeader))
	n, gotStride := atomic.LoadUint64(&hdr[0]), atomic.LoadUint64(&hdr[1])
	if gotStride != uint64(st) {
		return fmt.Errorf("%w: Array stride %d, %s needs %d", ErrCorrupt, gotStride, typeOf[T](), st)
	}
	if st > 0 && n > (ref.Len-cellHeader-arrayHeader)/uint64(st) {
		return fmt.Errorf("%w: Array of %d elements does not fit its %d bytes", ErrCorrupt, n, ref.Len)
	}
	a.cell.bind(ref, fp)
	a.w, a.stride = w, st
	a.elems = unsafe.Add(ref.Data, cellHeader+arrayHeader)
	a.bounds = make([]struct{}, n)
	return nil
}

// Len returns the number of elements.
func (a *Array[T]) Len() int { return len(a.bounds) }

func (a *Array[T]) at(i int) unsafe.Pointer {
	_ = a.bounds[i]
	return unsafe.Add(a.elems, uintptr(i)*a.stride)
}

// Get returns element i.
func (a *Array[T]) Get(i int) T {
	p := a.at(i)
	if !a.named {
		switch a.w {
		case w32:
			return fromBits32[T](atomic.LoadUint32((*uint32)(p)))
		case w64:
			return fromBits64[T](atomic.LoadUint64((*uint64)(p)))
		}
	}
	// By pointer from here, as in Value.Load.
	var x T
	if a.named {
		guardedDo(a.ref.Arena, func() { a.getInto(p, &x) })
	} else {
		a.getInto(p, &x)
	}
	return x
}

func (a *Array[T]) getInto(p unsafe.Pointer, x *T) {
	switch a.w {
	case w32:
		*x = fromBits32[T](atomic.LoadUint32((*uint32)(p)))
	case w64:
		*x = fromBits64[T](atomic.LoadUint64((*uint64)(p)))
	default:
		a.lockWide()
		*x = *(*T)(p)
		a.unlockWide()
	}
}

// Set sets element i to x.
func (a *Array[T]) Set(i int, x T) {
	if a.named {
		guardedDo(a.ref.Arena, func() { a.setRaw(i, &x) })
		return
	}
	a.setRaw(i, &x)
}

func (a *Array[T]) setRaw(i int, x *T) {
	p := a.at(i)
	switch a.w {
	case w32:
		atomic.StoreUint32((*uint32)(p), toBits32(*x))
	case w64:
		atomic.StoreUint64((*uint64)(p), toBits64(*x))
	default:
		a.lockWide()
		*(*T)(p) = *x
		a.unlockWide()
	}
}

// Update replaces element i with f(element) atomically and returns the new
// element. Like Value.Update it holds the array's own lock, and f may run
// more than once.
func (a *Array[T]) Update(i int, f func(T) T) T {
	if a.named {
		return guardedOwn(a.ref.Arena, func() T { return a.updateRaw(i, f) })
	}
	return a.updateRaw(i, f)
}

func (a *Array[T]) updateRaw(i int, f func(T) T) T {
	p := a.at(i)
	a.lock()
	defer a.unlock()
	switch a.w {
	case w32:
		for {
			old := atomic.LoadUint32((*uint32)(p))
			x := f(fromBits32[T](old))
			if atomic.CompareAndSwapUint32((*uint32)(p), old, toBits32(x)) {
				return x
			}
		}
	case w64:
		for {
			old := atomic.LoadUint64((*uint64)(p))
			x := f(fromBits64[T](old))
			if atomic.CompareAndSwapUint64((*uint64)(p), old, toBits64(x)) {
				return x
			}
		}
	}
	a.lockWide()
	defer a.unlockWide()
	x := f(*(*T)(p))
	*(*T)(p) = x
	return x
}

// CopyTo copies elements 0, 1, ... into dst until either ends and returns
// how many it copied. Each element is read atomically, but the copy is not a
// snapshot of the whole array: hold the array's lock for that.
func (a *Array[T]) CopyTo(dst []T) int {
	if a.named {
		return guarded(a.ref.Arena, func() int { return a.copyToRaw(dst) })
	}
	return a.copyToRaw(dst)
}

func (a *Array[T]) copyToRaw(dst []T) int {
	n := min(len(dst), a.Len())
	if a.w == wWide {
		a.lockWide()
		defer a.unlockWide()
		for i := range n {
			dst[i] = *(*T)(a.at(i))
		}
		return n
	}
	for i := range n {
		dst[i] = a.Get(i)
	}
	return n
}

// CopyFrom copies src into elements 0, 1, ... until either ends and returns
// how many it copied. Each element is written atomically.
func (a *Array[T]) CopyFrom(src []T) int {
	if a.named {
		return guarded(a.ref.Arena, func() int { return a.copyFromRaw(src) })
	}
	return a.copyFromRaw(src)
}

func (a *Array[T]) copyFromRaw(src []T) int {
	n := min(len(src), a.Len())
	if a.w == wWide {
		a.lockWide()
		defer a.unlockWide()
		for i := range n {
			*(*T)(a.at(i)) = src[i]
		}
		return n
	}
	for i := range n {
		a.Set(i, src[i])
	}
	return n
}

// Lock acquires the array's own lock. Update takes the same lock; Get, Set
// and the atomic methods do not.
func (a *Array[T]) Lock() { a.valid(); a.lock() }

// Unlock releases the array's own lock.
func (a *Array[T]) Unlock() { a.valid(); a.unlock() }

// TryLock acquires the array's own lock if it is free.
func (a *Array[T]) TryLock() bool { a.valid(); return a.tryLock() }

// LockContext acquires the array's own lock or gives up when ctx is done; see
// Lock.LockContext.
func (a *Array[T]) LockContext(ctx context.Context) error {
	a.valid()
	return a.lockContextWhat(ctx, "Array")
}

// GobEncode sends the array's handle to another process of the family.
func (a *Array[T]) GobEncode() ([]byte, error) {
	if a == nil {
		return nil, nilHandle("Array")
	}
	return a.encode(arena.KindArray, "Array")
}

// GobDecode attaches to an array sent by another process of the family.
func (a *Array[T]) GobDecode(b []byte) error {
	fp, err := rawType[T]("Array")
	if err != nil {
		return err
	}
	ref, err := arena.Decode(b, arena.KindArray, arrayVersion, fp)
	if err == nil {
		err = a.bind(ref, fp)
	}
	if err != nil {
		return fmt.Errorf("mp: decode Array[%s]: %w", typeOf[T](), err)
	}
	return nil
}

func (a *Array[T]) valid() {
	if a.w == wUnset {
		panic(fmt.Sprintf("mp: use of an Array[%s] not made by NewArray", typeOf[T]()))
	}
}

// IntArray is a shared array of integers with atomic per-element
// read-modify-write operations. It has every method of Array.
type IntArray[T Integer] struct {
	Array[T]
}

// NewIntArray makes a shared IntArray of n zeros in the family's arena.
func NewIntArray[T Integer](n int) (*IntArray[T], error) {
	a := &IntArray[T]{}
	if err := a.init(nil, n, "IntArray"); err != nil {
		return nil, err
	}
	return a, nil
}

// Add adds delta to element i atomically and returns the new element.
func (a *IntArray[T]) Add(i int, delta T) T {
	if a.named {
		return guarded(a.ref.Arena, func() T { return a.addRaw(i, delta) })
	}
	return a.addRaw(i, delta)
}

func (a *IntArray[T]) addRaw(i int, delta T) T {
	p := a.at(i)
	if a.w == w32 {
		return T(atomic.AddUint32((*uint32)(p), uint32(delta)))
	}
	return T(atomic.AddUint64((*uint64)(p), uint64(delta)))
}

// CompareAndSwap sets element i to new if it is old, atomically, and reports
// whether it did.
func (a *IntArray[T]) CompareAndSwap(i int, old, new T) bool {
	if a.named {
		return guarded(a.ref.Arena, func() bool { return a.compareAndSwapRaw(i, old, new) })
	}
	return a.compareAndSwapRaw(i, old, new)
}

func (a *IntArray[T]) compareAndSwapRaw(i int, old, new T) bool {
	p := a.at(i)
	if a.w == w32 {
		return atomic.CompareAndSwapUint32((*uint32)(p), uint32(old), uint32(new))
	}
	return atomic.CompareAndSwapUint64((*uint64)(p), uint64(old), uint64(new))
}

// Swap sets element i to new atomically and returns the old element.
func (a *IntArray[T]) Swap(i int, new T) (old T) {
	if a.named {
		return guarded(a.ref.Arena, func() T { return a.swapRaw(i, new) })
	}
	return a.swapRaw(i, new)
}

func (a *IntArray[T]) swapRaw(i int, new T) (old T) {
	p := a.at(i)
	if a.w == w32 {
		return T(atomic.SwapUint32((*uint32)(p), uint32(new)))
	}
	return T(atomic.SwapUint64((*uint64)(p), uint64(new)))
}

// GobEncode sends the IntArray's handle to another process of the family.
// (The Array's method, promoted, would dereference a nil *IntArray.)
func (a *IntArray[T]) GobEncode() ([]byte, error) {
	if a == nil {
		return nil, nilHandle("IntArray")
	}
	return a.Array.GobEncode()
}
