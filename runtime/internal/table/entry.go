// Package table holds the shared structures behind runtime/mp's Dict and
// List: a hash table and a growable list of byte strings, living in an arena
// and guarded by a robust lock in their header.
//
// Contract. A Map or List is a 32-byte header at a place in an arena that its
// user chose (the data of an arena object); a zeroed header is an empty
// container. Every method but Len requires the container's lock, taken with
// Lock and released with Unlock. Each change is a series of single-word
// stores ordered so that a process killed at any point leaves the structure
// well formed, with at worst one block leaked and the counts off by one; Lock
// repairs the counts when it takes the lock over from a dead holder.
// Everything read from the arena is checked before use: a bad offset or
// length is an error wrapping arena.ErrCorrupt, never a crash.
package table

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// guard is the lock of a container and what taking it needs.
type guard struct {
	a    *arena.Arena
	mu   *rlock.State
	self uint32
}

// lock takes the lock; when it took the lock over from a dead holder it runs
// check, and releases the lock again if check fails.
func (g *guard) lock(check func() error) error {
	if err := g.mu.Lock(g.self, g.a); err != nil {
		if !errors.Is(err, rlock.ErrOwnerDead) {
			return err
		}
		if err := check(); err != nil {
			g.mu.Unlock()
			return err
		}
	}
	return nil
}

// Unlock releases the container's lock.
func (g *guard) Unlock() { g.mu.Unlock() }

// An entry is one block holding a key and a value (a List entry has no key).
//
//	+0  key length  uint32
//	+4  value length uint32
//	+8  hash        uint64 (of the key; 0 in a List)
//	+16 key bytes, then value bytes
type entryHeader struct {
	klen uint32
	vlen uint32
	hash uint64
}

const entryHeaderSize = uint64(unsafe.Sizeof(entryHeader{}))

// MaxItem is the largest key plus value a container accepts.
const MaxItem = 1<<32 - 1

type entry struct {
	hash     uint64
	key, val []byte // views of shared memory: copy before unlocking
}

func newEntry(a *arena.Arena, hash uint64, key, val []byte) (uint64, error) {
	if uint64(len(key)) > MaxItem || uint64(len(val)) > MaxItem {
		return 0, fmt.Errorf("table: item of %d+%d bytes is too large", len(key), len(val))
	}
	off, err := a.Alloc(int(entryHeaderSize) + len(key) + len(val))
	if err != nil {
		return 0, err
	}
	p, err := a.Pointer(off, entryHeaderSize+uint64(len(key))+uint64(len(val)))
	if err != nil {
		return 0, err
	}
	h := (*entryHeader)(p)
	h.klen, h.vlen, h.hash = uint32(len(key)), uint32(len(val)), hash
	data := unsafe.Slice((*byte)(unsafe.Add(p, entryHeaderSize)), len(key)+len(val))
	copy(data, key)
	copy(data[len(key):], val)
	return off, nil
}

// readEntry checks the entry at off and returns views of it.
func readEntry(a *arena.Arena, off uint64) (entry, error) {
	capacity, err := a.Capacity(off)
	if err != nil {
		return entry{}, fmt.Errorf("table: entry: %w", err)
	}
	if capacity < entryHeaderSize {
		return entry{}, fmt.Errorf("table: entry at %d: %w: block of %d bytes", off, arena.ErrCorrupt, capacity)
	}
	p, err := a.Pointer(off, capacity)
	if err != nil {
		return entry{}, fmt.Errorf("table: entry: %w", err)
	}
	h := (*entryHeader)(p)
	kl, vl := uint64(h.klen), uint64(h.vlen)
	if entryHeaderSize+kl+vl > capacity {
		return entry{}, fmt.Errorf("table: entry at %d: %w: %d+%d bytes in a block of %d", off, arena.ErrCorrupt, kl, vl, capacity)
	}
	data := unsafe.Slice((*byte)(unsafe.Add(p, entryHeaderSize)), kl+vl)
	return entry{hash: h.hash, key: data[:kl:kl], val: data[kl:]}, nil
}

// words returns the array of n 8-byte words in the block at off, n being as
// many as the block holds.
func words(a *arena.Arena, off uint64) ([]uint64, error) {
	capacity, err := a.Capacity(off)
	if err != nil {
		return nil, err
	}
	p, err := a.Pointer(off, capacity)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*uint64)(p), capacity/8), nil
}
