package mp

import (
	"context"
	"fmt"
	"iter"
	"reflect"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/table"
)

// Set is a set of K in shared memory, beside Dict and List (a Manager's
// shared set in Python terms). It is a Dict of keys without values, stored
// the same way, and shared the same way: made with NewSet in the family's
// arena, or found by name in a Manager with ManagedSet.
//
// Each method is atomic, but Has followed by Add is not: another process
// may add the key in between. AddIfAbsent adds and says whether it did, in
// one step.
type Set[K comparable] struct {
	_ noCopy
	d Dict[K, struct{}]
}

func setFP[K comparable]() uint64 { return containerFP("Set", reflect.TypeFor[K]()) }

func setType[K comparable]() string { return reflect.TypeFor[K]().String() }

// NewSet makes an empty Set in the family's shared arena.
func NewSet[K comparable]() (*Set[K], error) {
	a, err := arena.Family()
	if err != nil {
		return nil, err
	}
	off, err := newSetIn[K](a)
	if err != nil {
		return nil, err
	}
	s := &Set[K]{}
	ref, err := a.Object(off, arena.KindDict, dictVersion, setFP[K]())
	if err == nil {
		err = s.d.bind(ref)
	}
	if err != nil {
		return nil, fmt.Errorf("mp: NewSet[%s]: %w", setType[K](), err)
	}
	return s, nil
}

func newSetIn[K comparable](a *arena.Arena) (uint64, error) {
	ref, err := a.NewObject(arena.KindDict, dictVersion, setFP[K](), containerSize)
	if err != nil {
		return 0, fmt.Errorf("mp: NewSet[%s]: %w", setType[K](), err)
	}
	return ref.Off, nil
}

// ManagedSet returns the Set called name in m, making it if m has none; see
// ManagedDict.
func ManagedSet[K comparable](m *Manager, name string) (*Set[K], error) {
	s := &Set[K]{}
	err := m.named(name, arena.KindDict, dictVersion, setFP[K](), s.d.bind, func() (uint64, error) {
		return newSetIn[K](m.a)
	})
	if err != nil {
		return nil, fmt.Errorf("mp: ManagedSet[%s](%q): %w", setType[K](), name, err)
	}
	return s, nil
}

// valid panics, naming the Set, where its Dict's check would name a Dict.
func (s *Set[K]) valid() {
	if s.d.m == nil {
		panic(fmt.Sprintf("mp: use of a Set[%s] not made by NewSet", setType[K]()))
	}
	if s.d.ref.Arena.Closed() {
		panic(fmt.Sprintf("mp: use of a Set[%s] after its Manager was closed", setType[K]()))
	}
}

func (s *Set[K]) fail(op string, err error) error {
	return fmt.Errorf("mp: Set[%s].%s: %w", setType[K](), op, err)
}

// Add adds k to the set; adding a member again does nothing.
func (s *Set[K]) Add(k K) error {
	s.valid()
	if err := s.d.Set(k, struct{}{}); err != nil {
		return s.fail("Add", err)
	}
	return nil
}

// AddIfAbsent adds k unless it is a member, and reports whether it added
// it, atomically: of several processes adding one key at once, exactly one
// is told true.
func (s *Set[K]) AddIfAbsent(k K) (bool, error) {
	s.valid()
	d := &s.d
	d.valid()
	kb, err := d.kc.encode(&k)
	if err != nil {
		return false, s.fail("AddIfAbsent", err)
	}
	h := table.Hash(kb)
	d.lock()
	defer d.unlock()
	if err := d.m.Lock(); err != nil {
		return false, s.fail("AddIfAbsent", err)
	}
	defer d.m.Unlock()
	_, ok, err := d.m.Get(kb, h, nil)
	if err == nil && !ok {
		err = d.m.Set(kb, h, nil)
	}
	if err != nil {
		return false, s.fail("AddIfAbsent", err)
	}
	return !ok, nil
}

// Remove removes k and reports whether it was a member.
func (s *Set[K]) Remove(k K) (bool, error) {
	s.valid()
	ok, err := s.d.Delete(k)
	if err != nil {
		return false, s.fail("Remove", err)
	}
	return ok, nil
}

// Has reports whether k is a member.
func (s *Set[K]) Has(k K) (bool, error) {
	s.valid()
	_, ok, err := s.d.Get(k)
	if err != nil {
		return false, s.fail("Has", err)
	}
	return ok, nil
}

// Len returns the number of members; by the time the caller looks, other
// processes may have changed it.
func (s *Set[K]) Len() int {
	s.valid()
	return s.d.Len()
}

// Items returns a snapshot of the members, in no particular order.
func (s *Set[K]) Items() ([]K, error) {
	s.valid()
	m, err := s.d.Items()
	if err != nil {
		return nil, s.fail("Items", err)
	}
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out, nil
}

// All iterates over a snapshot of the members. If the snapshot cannot be
// taken it yields the error once, with K's zero value.
func (s *Set[K]) All() iter.Seq2[K, error] {
	s.valid()
	return func(yield func(K, error) bool) {
		items, err := s.Items()
		if err != nil {
			yield(*new(K), err)
			return
		}
		for _, k := range items {
			if !yield(k, nil) {
				return
			}
		}
	}
}

// Lock acquires the Set's own lock, for a transaction of several steps.
// AddIfAbsent takes the same lock.
func (s *Set[K]) Lock() {
	s.valid()
	s.d.Lock()
}

// Unlock releases the Set's own lock.
func (s *Set[K]) Unlock() {
	s.valid()
	s.d.Unlock()
}

// TryLock acquires the Set's own lock if it is free.
func (s *Set[K]) TryLock() bool {
	s.valid()
	return s.d.TryLock()
}

// LockContext acquires the Set's own lock or gives up when ctx is done, as
// Dict.LockContext does.
func (s *Set[K]) LockContext(ctx context.Context) error {
	s.valid()
	return s.d.LockContext(ctx)
}

// GobEncode sends the Set's handle to another process that has its arena
// open.
func (s *Set[K]) GobEncode() ([]byte, error) {
	if s == nil {
		return nil, nilHandle("Set")
	}
	if s.d.m == nil {
		return nil, fmt.Errorf("mp: encode a Set[%s] not made by NewSet", setType[K]())
	}
	return s.d.ref.Encode(arena.KindDict, setFP[K]()), nil
}

// GobDecode attaches to a Set sent by another process.
func (s *Set[K]) GobDecode(b []byte) error {
	ref, err := arena.Decode(b, arena.KindDict, dictVersion, setFP[K]())
	if err == nil {
		err = s.d.bind(ref)
	}
	if err != nil {
		return fmt.Errorf("mp: decode Set[%s]: %w", setType[K](), err)
	}
	return nil
}
