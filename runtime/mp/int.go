package mp

import (
	"fmt"
	"sync/atomic"
)

// Integer is the set of integer types with atomic operations in shared memory.
type Integer interface {
	~int32 | ~int64 | ~uint32 | ~uint64 | ~int | ~uint | ~uintptr
}

// Int is a shared integer with atomic read-modify-write operations, like
// sync/atomic's Int64 across processes. It has every method of Value.
type Int[T Integer] struct {
	Value[T]
}

// NewInt makes a shared Int holding init in the family's arena.
func NewInt[T Integer](init T) (*Int[T], error) {
	v := &Int[T]{}
	if err := v.init(nil, &init, "Int"); err != nil {
		return nil, err
	}
	return v, nil
}

// Add adds delta to the value atomically and returns the new value.
func (v *Int[T]) Add(delta T) T {
	if v.named {
		return guarded(v.ref.Arena, func() T { return v.addRaw(delta) })
	}
	return v.addRaw(delta)
}

func (v *Int[T]) addRaw(delta T) T {
	if v.w == w32 {
		return T(atomic.AddUint32((*uint32)(v.word), uint32(delta)))
	}
	v.valid64()
	return T(atomic.AddUint64((*uint64)(v.word), uint64(delta)))
}

// CompareAndSwap sets the value to new if it is old, atomically, and reports
// whether it did.
func (v *Int[T]) CompareAndSwap(old, new T) bool {
	if v.named {
		return guarded(v.ref.Arena, func() bool { return v.compareAndSwapRaw(old, new) })
	}
	return v.compareAndSwapRaw(old, new)
}

func (v *Int[T]) compareAndSwapRaw(old, new T) bool {
	if v.w == w32 {
		return atomic.CompareAndSwapUint32((*uint32)(v.word), uint32(old), uint32(new))
	}
	v.valid64()
	return atomic.CompareAndSwapUint64((*uint64)(v.word), uint64(old), uint64(new))
}

// Swap sets the value to new atomically and returns the old value.
func (v *Int[T]) Swap(new T) (old T) {
	if v.named {
		return guarded(v.ref.Arena, func() T { return v.swapRaw(new) })
	}
	return v.swapRaw(new)
}

func (v *Int[T]) swapRaw(new T) (old T) {
	if v.w == w32 {
		return T(atomic.SwapUint32((*uint32)(v.word), uint32(new)))
	}
	v.valid64()
	return T(atomic.SwapUint64((*uint64)(v.word), uint64(new)))
}

// And sets the value to value & mask atomically and returns the old value.
func (v *Int[T]) And(mask T) (old T) {
	if v.named {
		return guarded(v.ref.Arena, func() T { return v.andRaw(mask) })
	}
	return v.andRaw(mask)
}

func (v *Int[T]) andRaw(mask T) (old T) {
	if v.w == w32 {
		return T(atomic.AndUint32((*uint32)(v.word), uint32(mask)))
	}
	v.valid64()
	return T(atomic.AndUint64((*uint64)(v.word), uint64(mask)))
}

// Or sets the value to value | mask atomically and returns the old value.
func (v *Int[T]) Or(mask T) (old T) {
	if v.named {
		return guarded(v.ref.Arena, func() T { return v.orRaw(mask) })
	}
	return v.orRaw(mask)
}

func (v *Int[T]) orRaw(mask T) (old T) {
	if v.w == w32 {
		return T(atomic.OrUint32((*uint32)(v.word), uint32(mask)))
	}
	v.valid64()
	return T(atomic.OrUint64((*uint64)(v.word), uint64(mask)))
}

func (v *Int[T]) valid64() {
	if v.w != w64 {
		panic(fmt.Sprintf("mp: use of an Int[%s] not made by NewInt", typeOf[T]()))
	}
}

// GobEncode sends the Int's handle to another process of the family. (The
// Value's method, promoted, would dereference a nil *Int.)
func (v *Int[T]) GobEncode() ([]byte, error) {
	if v == nil {
		return nil, nilHandle("Int")
	}
	return v.Value.GobEncode()
}
