package table

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// A Map is an open-addressing hash table with linear probing. Its slots are
// pairs of words, the key's hash and the offset of its entry, in one block:
// off 0 is an empty slot, off tomb a deleted one. The table is rebuilt into a
// new block when live and deleted slots pass three quarters of it, and into a
// smaller one when it is mostly empty, so its size follows the live count and
// memory freed by Delete is reused.
type mapHeader struct {
	mu    rlock.State
	slots uint64 // offset of the slot block, 0 for an empty map
	live  uint64 // read without the lock by Len
	tombs uint64
}

// HeaderSize is the size of a Map's or a List's header.
const HeaderSize = 32

var _ [HeaderSize - unsafe.Sizeof(mapHeader{})]byte
var _ [unsafe.Sizeof(mapHeader{}) - HeaderSize]byte

const (
	tomb     = 1
	minSlots = 8
)

// Map is a hash table of byte-string keys and values in an arena.
type Map struct {
	guard
	h *mapHeader
}

// AttachMap returns the map whose header is at p, HeaderSize bytes inside a.
// A zeroed header is an empty map.
func AttachMap(a *arena.Arena, p unsafe.Pointer) *Map {
	h := (*mapHeader)(p)
	return &Map{guard: guard{a: a, mu: &h.mu, self: a.Self()}, h: h}
}

// Lock takes the map's lock. If it took the lock over from a process that
// died holding it, it repairs the counts and checks every entry; if that
// finds the map corrupt it releases the lock and returns the error.
func (m *Map) Lock() error { return m.lock(m.repair) }

// Len returns the number of keys. It needs no lock.
func (m *Map) Len() int { return int(atomic.LoadUint64(&m.h.live)) }

func (m *Map) slots() ([]uint64, error) {
	if m.h.slots == 0 {
		return nil, nil
	}
	w, err := words(m.a, m.h.slots)
	if err != nil {
		return nil, fmt.Errorf("table: slots: %w", err)
	}
	return w[:len(w)&^1], nil
}

// find looks key up. It returns the slot holding it, or where to insert it
// (-1 if the table has no free slot).
func (m *Map) find(s []uint64, key []byte, hash uint64) (i int, found bool, err error) {
	n := uint64(len(s) / 2)
	if n == 0 {
		return -1, false, nil
	}
	free := -1
	j := reduce(hash, n)
	for range n {
		switch off := s[2*j+1]; {
		case off == 0:
			if free < 0 {
				free = int(j)
			}
			return free, false, nil
		case off == tomb:
			if free < 0 {
				free = int(j)
			}
		case s[2*j] == hash:
			e, err := readEntry(m.a, off)
			if err != nil {
				return 0, false, err
			}
			if bytes.Equal(e.key, key) {
				return int(j), true, nil
			}
		}
		if j++; j == n {
			j = 0
		}
	}
	return free, false, nil
}

// Get appends the value of key to dst.
func (m *Map) Get(key []byte, hash uint64, dst []byte) ([]byte, bool, error) {
	s, err := m.slots()
	if err != nil {
		return dst, false, err
	}
	i, found, err := m.find(s, key, hash)
	if err != nil || !found {
		return dst, false, err
	}
	e, err := readEntry(m.a, s[2*i+1])
	if err != nil {
		return dst, false, err
	}
	return append(dst, e.val...), true, nil
}

// Set sets the value of key.
func (m *Map) Set(key []byte, hash uint64, val []byte) error {
	s, err := m.slots()
	if err != nil {
		return err
	}
	i, found, err := m.find(s, key, hash)
	if err != nil {
		return err
	}
	if !found && (i < 0 || (m.h.live+m.h.tombs+1)*4 > uint64(len(s)/2)*3) {
		if err := m.rebuild(m.h.live + 1); err != nil {
			return err
		}
		if s, err = m.slots(); err != nil {
			return err
		}
		if i, _, err = m.find(s, key, hash); err != nil {
			return err
		}
		if i < 0 {
			return fmt.Errorf("table: %w: no free slot after a rebuild", arena.ErrCorrupt)
		}
	}
	off, err := newEntry(m.a, hash, key, val)
	if err != nil {
		return err
	}
	old := s[2*i+1]
	if found {
		s[2*i+1] = off
		return m.a.Free(old)
	}
	s[2*i] = hash
	s[2*i+1] = off
	if old == tomb {
		m.h.tombs--
	}
	atomic.StoreUint64(&m.h.live, m.h.live+1)
	return nil
}

// Delete removes key and reports whether it was there.
func (m *Map) Delete(key []byte, hash uint64) (bool, error) {
	s, err := m.slots()
	if err != nil {
		return false, err
	}
	i, found, err := m.find(s, key, hash)
	if err != nil || !found {
		return false, err
	}
	off := s[2*i+1]
	s[2*i+1] = tomb
	m.h.tombs++
	atomic.StoreUint64(&m.h.live, m.h.live-1)
	if err := m.a.Free(off); err != nil {
		return true, err
	}
	if n := uint64(len(s) / 2); n > 8*minSlots && m.h.live < n/8 {
		return true, m.rebuild(m.h.live)
	}
	return true, nil
}

// Each calls fn for every key and value, in table order, until fn returns
// an error. The slices view shared memory: fn must copy what it keeps.
func (m *Map) Each(fn func(key, val []byte) error) error {
	s, err := m.slots()
	if err != nil {
		return err
	}
	for i := 1; i < len(s); i += 2 {
		if off := s[i]; off > tomb {
			e, err := readEntry(m.a, off)
			if err != nil {
				return err
			}
			if err := fn(e.key, e.val); err != nil {
				return err
			}
		}
	}
	return nil
}

// rebuild moves the live slots into a new block sized for want keys at
// most half full. The old block stays intact until the new one is published
// with one store, so a crash leaves one or the other, never a mix.
func (m *Map) rebuild(want uint64) error {
	old, err := m.slots()
	if err != nil {
		return err
	}
	n := max(2*want, minSlots)
	if n > uint64(m.a.Size())/16 {
		return fmt.Errorf("table: grow to %d slots: %w", n, arena.ErrNoSpace)
	}
	off, err := m.a.Alloc(int(16 * n))
	if err != nil {
		return fmt.Errorf("table: grow to %d slots: %w", n, err)
	}
	s, err := words(m.a, off)
	if err != nil {
		return err
	}
	// Alloc zeroes only the bytes asked for; the block's tail may hold
	// slots from its last use.
	clear(s)
	s = s[:len(s)&^1]
	size := uint64(len(s) / 2)
	live := uint64(0)
	for i := 1; i < len(old); i += 2 {
		if old[i] <= tomb {
			continue
		}
		j := reduce(old[i-1], size)
		for s[2*j+1] != 0 {
			if j++; j == size {
				j = 0
			}
		}
		s[2*j], s[2*j+1] = old[i-1], old[i]
		if live++; live == size {
			m.a.Free(off)
			return fmt.Errorf("table: %w: more live slots than counted", arena.ErrCorrupt)
		}
	}
	prev := m.h.slots
	atomic.StoreUint64(&m.h.slots, off)
	m.h.tombs = 0
	atomic.StoreUint64(&m.h.live, live)
	if prev != 0 {
		return m.a.Free(prev)
	}
	return nil
}

// repair recounts the slots and checks every entry, after a process died
// holding the lock.
func (m *Map) repair() error {
	s, err := m.slots()
	if err != nil {
		return fmt.Errorf("table: repair: %w", err)
	}
	var live, tombs uint64
	for i := 1; i < len(s); i += 2 {
		switch off := s[i]; off {
		case 0:
		case tomb:
			tombs++
		default:
			e, err := readEntry(m.a, off)
			if err != nil {
				return fmt.Errorf("table: repair: %w", err)
			}
			if e.hash != s[i-1] || Hash(e.key) != e.hash {
				return fmt.Errorf("table: repair: %w: entry at %d has the wrong hash", arena.ErrCorrupt, off)
			}
			live++
		}
	}
	m.h.tombs = tombs
	atomic.StoreUint64(&m.h.live, live)
	return nil
}
