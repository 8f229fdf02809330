package table

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// A List is an array of entry offsets in one block, its length in the
// header. Append writes the new offset past the end before it raises the
// length; Pop lowers the length before it frees the entry; growing and
// shrinking copy to a new block and publish it with one store. The block is
// resized to twice the length when it fills or falls under a quarter full.
type listHeader struct {
	mu  rlock.State
	arr uint64 // offset of the array block, 0 for an empty list
	n   uint64 // read without the lock by Len
	_   uint64
}

var _ [HeaderSize - unsafe.Sizeof(listHeader{})]byte
var _ [unsafe.Sizeof(listHeader{}) - HeaderSize]byte

const minElems = 8

// ErrRange reports an index outside a List.
var ErrRange = errors.New("index out of range")

// List is a list of byte strings in an arena.
type List struct {
	guard
	h *listHeader
}

// AttachList returns the list whose header is at p, HeaderSize bytes inside
// a. A zeroed header is an empty list.
func AttachList(a *arena.Arena, p unsafe.Pointer) *List {
	h := (*listHeader)(p)
	return &List{guard: guard{a: a, mu: &h.mu, self: a.Self()}, h: h}
}

// Lock takes the list's lock, checking the list when it took the lock over
// from a process that died holding it; if the list is corrupt it releases
// the lock and returns the error.
func (l *List) Lock() error { return l.lock(l.check) }

// Len returns the list's length. It needs no lock.
func (l *List) Len() int { return int(atomic.LoadUint64(&l.h.n)) }

// elems returns the array and the length, checked against each other.
func (l *List) elems() ([]uint64, uint64, error) {
	n := l.h.n
	if l.h.arr == 0 {
		if n != 0 {
			return nil, 0, fmt.Errorf("table: list: %w: length %d without an array", arena.ErrCorrupt, n)
		}
		return nil, 0, nil
	}
	w, err := words(l.a, l.h.arr)
	if err != nil {
		return nil, 0, fmt.Errorf("table: list: %w", err)
	}
	if n > uint64(len(w)) {
		return nil, 0, fmt.Errorf("table: list: %w: length %d in an array of %d", arena.ErrCorrupt, n, len(w))
	}
	return w, n, nil
}

func (l *List) at(i int) (uint64, []uint64, error) {
	w, n, err := l.elems()
	if err != nil {
		return 0, nil, err
	}
	if i < 0 || uint64(i) >= n {
		return 0, nil, fmt.Errorf("table: list index %d with length %d: %w", i, n, ErrRange)
	}
	return w[i], w, nil
}

// Get appends element i to dst.
func (l *List) Get(i int, dst []byte) ([]byte, error) {
	off, _, err := l.at(i)
	if err != nil {
		return dst, err
	}
	e, err := readEntry(l.a, off)
	if err != nil {
		return dst, err
	}
	return append(dst, e.val...), nil
}

// Set replaces element i.
func (l *List) Set(i int, val []byte) error {
	old, w, err := l.at(i)
	if err != nil {
		return err
	}
	off, err := newEntry(l.a, 0, nil, val)
	if err != nil {
		return err
	}
	w[i] = off
	return l.a.Free(old)
}

// Append adds val at the end.
func (l *List) Append(val []byte) error {
	w, n, err := l.elems()
	if err != nil {
		return err
	}
	if n == uint64(len(w)) {
		if w, err = l.resize(w, n, max(2*n, minElems)); err != nil {
			return err
		}
	}
	off, err := newEntry(l.a, 0, nil, val)
	if err != nil {
		return err
	}
	w[n] = off
	atomic.StoreUint64(&l.h.n, n+1)
	return nil
}

// Pop removes the last element and appends it to dst. It reports false if
// the list is empty.
func (l *List) Pop(dst []byte) ([]byte, bool, error) {
	w, n, err := l.elems()
	if err != nil || n == 0 {
		return dst, false, err
	}
	e, err := readEntry(l.a, w[n-1])
	if err != nil {
		return dst, false, err
	}
	dst = append(dst, e.val...)
	atomic.StoreUint64(&l.h.n, n-1)
	if err := l.a.Free(w[n-1]); err != nil {
		return dst, true, err
	}
	if c := uint64(len(w)); c > 8*minElems && n-1 < c/4 {
		if _, err := l.resize(w, n-1, max(2*(n-1), minElems)); err != nil {
			return dst, true, err
		}
	}
	return dst, true, nil
}

// Each calls fn for every element in order until fn returns an error. The
// slice views shared memory: fn must copy what it keeps.
func (l *List) Each(fn func(i int, val []byte) error) error {
	w, n, err := l.elems()
	if err != nil {
		return err
	}
	for i := range n {
		e, err := readEntry(l.a, w[i])
		if err != nil {
			return err
		}
		if err := fn(int(i), e.val); err != nil {
			return err
		}
	}
	return nil
}

// resize copies the first n offsets of w to a new block of at least c and
// publishes it.
func (l *List) resize(w []uint64, n, c uint64) ([]uint64, error) {
	if c > uint64(l.a.Size())/8 {
		return nil, fmt.Errorf("table: grow list to %d: %w", c, arena.ErrNoSpace)
	}
	off, err := l.a.Alloc(int(8 * c))
	if err != nil {
		return nil, fmt.Errorf("table: grow list to %d: %w", c, err)
	}
	nw, err := words(l.a, off)
	if err != nil {
		return nil, err
	}
	copy(nw, w[:n])
	prev := l.h.arr
	atomic.StoreUint64(&l.h.arr, off)
	if prev != 0 {
		if err := l.a.Free(prev); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// check validates every element after a process died holding the lock.
func (l *List) check() error {
	return l.Each(func(int, []byte) error { return nil })
}
