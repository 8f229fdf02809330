package mp

// A Value's data, after the cell header, is either one 8-byte word (values of
// 1, 2, 4 or 8 bytes, read and written with single atomic instructions) or,
// for wider values, a double buffer:
//
//	+0   idx        which of the two slots holds the current value
//	+4   seq[0..1]  per-slot sequence numbers, odd while a slot is written
//	+16  slot 0, slot 1
//
// A writer, holding wmu, fills the slot that is not current, bracketing the
// copy with odd and even sequence numbers, then flips idx. A reader copies the
// current slot and keeps the copy if the slot's sequence number was even and
// unchanged. Readers take no lock and the slot they read is never the one being
// written unless two writes complete during their copy, so a writer that
// stalls or dies mid-copy never blocks them.

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"golang.org/x/sys/unix"
)

const (
	valueVersion = 1
	wideHeader   = 16
)

// Value is a shared variable of type T, like Python's multiprocessing.Value.
// T must be a fixed-size type without pointers. Load and Store are atomic:
// a Load never sees half of a Store, whatever the size of T.
//
// Load followed by Store is not atomic. To change the value based on what it
// was, use Update (or, on an Int, Add and CompareAndSwap), or hold the value's
// own Lock across both.
type Value[T any] struct {
	_ noCopy
	cell
	w    width
	word unsafe.Pointer // w32, w64: the word; wWide: the double buffer
}

// NewValue makes a shared Value holding init in the family's arena. It
// returns an error wrapping ErrPointers if T cannot be stored raw.
func NewValue[T any](init T) (*Value[T], error) {
	v := &Value[T]{}
	if err := v.init(nil, &init, "Value"); err != nil {
		return nil, err
	}
	return v, nil
}

// init makes the Value in a (nil: the family arena) holding *x. Values
// travel by pointer inside the package: a T of hundreds of megabytes copied
// into each frame would overflow the stack.
func (v *Value[T]) init(a *arena.Arena, x *T, what string) error {
	fp, err := rawType[T](what)
	if err != nil {
		return err
	}
	w := widthOf[T]()
	length := uintptr(cellHeader + 8)
	if w == wWide {
		length = cellHeader + wideHeader + 2*stride[T](w)
	}
	ref, err := newObject(a, arena.KindValue, valueVersion, fp, length, fmt.Sprintf("New%s[%s]", what, typeOf[T]()))
	if err != nil {
		return err
	}
	if err := v.bind(ref, fp); err != nil {
		return err
	}
	v.store(x)
	return nil
}

func (v *Value[T]) bind(ref arena.Ref, fp uint64) error {
	w := widthOf[T]()
	need := uint64(cellHeader + 8)
	if w == wWide {
		need = cellHeader + wideHeader + 2*uint64(stride[T](w))
	}
	if ref.Len < need {
		return fmt.Errorf("%w: Value object of %d bytes, %s needs %d", ErrCorrupt, ref.Len, typeOf[T](), need)
	}
	v.cell.bind(ref, fp)
	v.w, v.word = w, v.data()
	return nil
}

// Load returns the current value.
func (v *Value[T]) Load() T {
	if !v.named {
		switch v.w {
		case w32:
			return fromBits32[T](atomic.LoadUint32((*uint32)(v.word)))
		case w64:
			return fromBits64[T](atomic.LoadUint64((*uint64)(v.word)))
		}
	}
	// Results travel by pointer from here: a wide T returned through each
	// frame would be copied into each.
	var x T
	if v.named {
		guardedDo(v.ref.Arena, func() { v.loadInto(&x) })
	} else {
		v.loadWide(&x)
	}
	return x
}

func (v *Value[T]) loadInto(x *T) {
	switch v.w {
	case w32:
		*x = fromBits32[T](atomic.LoadUint32((*uint32)(v.word)))
	case w64:
		*x = fromBits64[T](atomic.LoadUint64((*uint64)(v.word)))
	default:
		v.loadWide(x)
	}
}

// Store sets the value.
func (v *Value[T]) Store(x T) {
	if v.named {
		guardedDo(v.ref.Arena, func() { v.store(&x) })
		return
	}
	v.store(&x)
}

func (v *Value[T]) store(x *T) {
	switch v.w {
	case w32:
		atomic.StoreUint32((*uint32)(v.word), toBits32(*x))
	case w64:
		atomic.StoreUint64((*uint64)(v.word), toBits64(*x))
	default:
		v.storeWide(x)
	}
}

// Update replaces the value with f(value) atomically and returns the new
// value. It holds the value's own lock while it runs, so it must not be called
// by a goroutine that holds that lock. f may run more than once if an Add or
// Store from elsewhere races with it; it should only compute.
func (v *Value[T]) Update(f func(T) T) T {
	x := new(T)
	if v.named {
		guardedOwn(v.ref.Arena, func() struct{} { v.updateInto(f, x); return struct{}{} })
	} else {
		v.updateInto(f, x)
	}
	return *x
}

// updateInto is Update, leaving the new value in *x.
func (v *Value[T]) updateInto(f func(T) T, x *T) {
	v.valid()
	if v.w == wWide && unsafe.Sizeof(*new(T)) > maxUpdate {
		panic(fmt.Sprintf("mp: Value[%s].Update: a value of %d bytes cannot be passed to and returned from f within a goroutine's stack; hold the Value's Lock around Load and Store instead",
			typeOf[T](), unsafe.Sizeof(*new(T))))
	}
	v.lock()
	defer v.unlock()
	// Each way is a function of its own, so that this frame does not
	// reserve room for f's argument and result of every way at once.
	switch v.w {
	case w32:
		v.update32(f, x)
	case w64:
		v.update64(f, x)
	default:
		v.updateWide(f, x)
	}
}

// maxUpdate is the largest value Update takes: calling f needs three copies
// of the value on the stack (the argument, made from a copy, and the
// result) and Update's caller a fourth, and a goroutine's stack, which grows
// by doubling up to Go's 1 GB limit, can be at most 512 MiB.
const maxUpdate = 100 << 20

//go:noinline
func (v *Value[T]) update32(f func(T) T, x *T) {
	p := (*uint32)(v.word)
	for {
		old := atomic.LoadUint32(p)
		*x = f(fromBits32[T](old))
		if atomic.CompareAndSwapUint32(p, old, toBits32(*x)) {
			return
		}
	}
}

//go:noinline
func (v *Value[T]) update64(f func(T) T, x *T) {
	p := (*uint64)(v.word)
	for {
		old := atomic.LoadUint64(p)
		*x = f(fromBits64[T](old))
		if atomic.CompareAndSwapUint64(p, old, toBits64(*x)) {
			return
		}
	}
}

//go:noinline
func (v *Value[T]) updateWide(f func(T) T, x *T) {
	v.lockWide()
	defer v.unlockWide()
	v.loadWide(x)
	*x = f(*x)
	v.publish(x)
}

// Lock acquires the value's own lock (Python's get_lock()). Update takes the
// same lock; Load, Store and the atomic methods do not.
func (v *Value[T]) Lock() { v.valid(); v.lock() }

// Unlock releases the value's own lock.
func (v *Value[T]) Unlock() { v.valid(); v.unlock() }

// TryLock acquires the value's own lock if it is free.
func (v *Value[T]) TryLock() bool { v.valid(); return v.tryLock() }

// LockContext acquires the value's own lock or gives up when ctx is done; see
// Lock.LockContext.
func (v *Value[T]) LockContext(ctx context.Context) error {
	v.valid()
	return v.lockContextWhat(ctx, "Value")
}

// GobEncode sends the value's handle to another process of the family.
func (v *Value[T]) GobEncode() ([]byte, error) {
	if v == nil {
		return nil, nilHandle("Value")
	}
	return v.encode(arena.KindValue, "Value")
}

// GobDecode attaches to a value sent by another process of the family.
func (v *Value[T]) GobDecode(b []byte) error {
	fp, err := rawType[T]("Value")
	if err != nil {
		return err
	}
	ref, err := arena.Decode(b, arena.KindValue, valueVersion, fp)
	if err == nil {
		err = v.bind(ref, fp)
	}
	if err != nil {
		return fmt.Errorf("mp: decode Value[%s]: %w", typeOf[T](), err)
	}
	return nil
}

func (v *Value[T]) valid() {
	if v.w == wUnset {
		panic(fmt.Sprintf("mp: use of a Value[%s] not made by NewValue", typeOf[T]()))
	}
}

// The double buffer's parts.
func (v *Value[T]) idx() *uint32         { return (*uint32)(v.word) }
func (v *Value[T]) seq(i uint32) *uint32 { return (*uint32)(unsafe.Add(v.word, 4+4*i)) }
func (v *Value[T]) slot(i uint32) *T {
	return (*T)(unsafe.Add(v.word, wideHeader+uintptr(i)*stride[T](wWide)))
}

// loadWide copies the current value to *x.
func (v *Value[T]) loadWide(x *T) {
	v.valid()
	for spins := 0; ; spins++ {
		i := atomic.LoadUint32(v.idx()) & 1
		s := atomic.LoadUint32(v.seq(i))
		if s&1 == 0 {
			*x = *v.slot(i)
			if seqUnchanged(v.seq(i), s) {
				return
			}
		}
		if spins > 64 {
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
}

// seqUnchanged re-reads a sequence number after a copy. On amd64 loads are
// not reordered with older loads, so a plain atomic load will do; elsewhere
// a compare-and-swap of the value with itself orders the copy before it.
func seqUnchanged(p *uint32, s uint32) bool {
	if runtime.GOARCH == "amd64" {
		return atomic.LoadUint32(p) == s
	}
	return atomic.CompareAndSwapUint32(p, s, s)
}

func (v *Value[T]) storeWide(x *T) {
	v.valid()
	v.lockWide()
	v.publish(x)
	v.unlockWide()
}

// publish writes *x to the idle slot and makes it current; wmu must be held.
func (v *Value[T]) publish(x *T) {
	i := 1 - atomic.LoadUint32(v.idx())&1
	// Odd whatever the slot held before, even if a writer died leaving it odd.
	odd := (atomic.LoadUint32(v.seq(i)) | 1) + 2
	atomic.StoreUint32(v.seq(i), odd)
	*v.slot(i) = *x
	atomic.StoreUint32(v.seq(i), odd+1)
	atomic.StoreUint32(v.idx(), i)
}
