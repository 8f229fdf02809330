package mp

// Every shared type a Manager holds by name, beside Dict and List (in
// manager.go): unrelated programs that open the same Manager find the same
// objects.

import (
	"fmt"
	"reflect"

	"github.com/mprace/mprace/runtime/internal/arena"
)

// ManagedLock returns the Lock called name in m, making it unlocked if m has
// none. It fails with ErrTypeMismatch if name holds another kind of object.
func ManagedLock(m *Manager, name string) (*Lock, error) {
	l := &Lock{}
	err := m.named(name, arena.KindLock, lockVersion, 0,
		func(ref arena.Ref) error { l.bindLock(ref); return nil },
		func() (uint64, error) {
			nl, err := newLockIn(m.a)
			if err != nil {
				return 0, err
			}
			return nl.ref.Off, nil
		})
	if err != nil {
		return nil, fmt.Errorf("mp: ManagedLock(%q): %w", name, err)
	}
	return l, nil
}

// ManagedValue returns the Value called name in m, making it with init if m
// has none (init is ignored otherwise). It fails with ErrTypeMismatch if name
// holds another kind of object or a Value of another type, and with
// ErrPointers if T cannot be stored raw.
func ManagedValue[T any](m *Manager, name string, init T) (*Value[T], error) {
	v := &Value[T]{}
	if err := managedValue(m, name, &init, "Value", v); err != nil {
		return nil, err
	}
	return v, nil
}

// ManagedInt returns the Int called name in m, making it with init if m has
// none; see ManagedValue. An Int and a Value of the same integer type are
// the same object.
func ManagedInt[T Integer](m *Manager, name string, init T) (*Int[T], error) {
	v := &Int[T]{}
	if err := managedValue(m, name, &init, "Int", &v.Value); err != nil {
		return nil, err
	}
	return v, nil
}

// managedValue takes init by pointer, as Value.init does: a T of hundreds of
// megabytes copied into each frame would overflow the stack.
func managedValue[T any](m *Manager, name string, init *T, what string, v *Value[T]) error {
	fp, err := rawType[T](what)
	if err == nil {
		err = m.named(name, arena.KindValue, valueVersion, fp,
			func(ref arena.Ref) error { return v.bind(ref, fp) },
			func() (uint64, error) {
				nv := &Value[T]{}
				if err := nv.init(m.a, init, what); err != nil {
					return 0, err
				}
				return nv.ref.Off, nil
			})
	}
	if err != nil {
		return fmt.Errorf("mp: Managed%s[%s](%q): %w", what, reflect.TypeFor[T](), name, err)
	}
	return nil
}

// ManagedArray returns the Array called name in m, making it with n zero
// elements if m has none. It fails with ErrTypeMismatch if name holds
// another kind of object, or an Array of another element type or length.
func ManagedArray[T any](m *Manager, name string, n int) (*Array[T], error) {
	a := &Array[T]{}
	if err := managedArray(m, name, n, "Array", a); err != nil {
		return nil, err
	}
	return a, nil
}

// ManagedIntArray returns the IntArray called name in m; see ManagedArray.
func ManagedIntArray[T Integer](m *Manager, name string, n int) (*IntArray[T], error) {
	a := &IntArray[T]{}
	if err := managedArray(m, name, n, "IntArray", &a.Array); err != nil {
		return nil, err
	}
	return a, nil
}

func managedArray[T any](m *Manager, name string, n int, what string, a *Array[T]) error {
	fp, err := rawType[T](what)
	if err == nil {
		err = m.named(name, arena.KindArray, arrayVersion, fp,
			func(ref arena.Ref) error {
				if err := a.bind(ref, fp); err != nil {
					return err
				}
				if a.Len() != n {
					return fmt.Errorf("%w: it holds %d elements, not %d", ErrTypeMismatch, a.Len(), n)
				}
				return nil
			},
			func() (uint64, error) {
				na := &Array[T]{}
				if err := na.init(m.a, n, what); err != nil {
					return 0, err
				}
				return na.ref.Off, nil
			})
	}
	if err != nil {
		return fmt.Errorf("mp: Managed%s[%s](%q, %d): %w", what, reflect.TypeFor[T](), name, n, err)
	}
	return nil
}

// ManagedQueue returns the Queue called name in m, making it with opts if m
// has none (opts are ignored otherwise, but for a codec, which every
// program must give or register alike). It fails with ErrTypeMismatch if
// name holds another kind of object or a Queue of another item type.
func ManagedQueue[T any](m *Manager, name string, opts ...QueueOption) (*Queue[T], error) {
	q := &Queue[T]{}
	var cfg queueConfig
	for _, o := range opts {
		o(&cfg)
	}
	if c, ok := cfg.codec.(Codec[T]); ok {
		RegisterCodec(c)
	}
	fp := queueFingerprint[T]()
	err := m.named(name, arena.KindQueue, queueVersion, fp,
		func(ref arena.Ref) error { return q.attach(ref, fp) },
		func() (uint64, error) {
			nq, err := newQueueIn[T](m.a, opts)
			if err != nil {
				return 0, err
			}
			return nq.ref.Off, nil
		})
	if err != nil {
		return nil, fmt.Errorf("mp: ManagedQueue[%s](%q): %w", reflect.TypeFor[T](), name, err)
	}
	return q, nil
}
