// Package ring is the shared data structure behind runtime/mp's Queue: a
// bounded multi-producer multi-consumer ring of byte records in memory shared
// between processes, which survives a process killed at any instruction.
//
// Contract. A ring is a header and a power-of-two data area, laid out by Init
// in a shared mapping and attached by each process with Attach. Producers
// serialise on one robust lock and consumers on another, so a producer and a
// consumer never wait for each other. Each side's whole state is one 64-bit
// word (tail for producers, head for consumers) holding a byte position in its
// high half and an item count in its low half, both counting up forever
// modulo 2^32. A side copies its record first and publishes its word last,
// with a single atomic store, so a process killed at any point has either
// done its whole operation or none of it: a producer killed mid-copy leaves a
// record nobody can see, which the next producer overwrites; a consumer
// killed mid-copy leaves the record in place for the next consumer. At most
// the one record in flight is lost (a consumer killed after publishing, before
// its caller saw the record) and none is ever duplicated or torn.
//
// The dead holder of a side's lock is detected by rlock (within its poll
// interval) and the survivor goes on: there is nothing to repair, because the
// published words are always consistent. They are still untrusted: every use
// checks that the bytes and items between head and tail fit the capacities,
// and that a record's length fits what was published, and reports ErrCorrupt
// otherwise. Positions are masked into the data area, so no value read from
// shared memory can make an access leave it.
//
// Waiting. A consumer that finds the ring empty spins briefly, then counts
// itself in notEmpty.waiting and sleeps on the notEmpty.word futex; a
// producer that publishes a record wakes one sleeper only if the count is
// nonzero, so the common case pays no system call. Producers waiting for
// space mirror this on notFull. Registration and publication are
// sequentially consistent atomics (a Dekker pair), so a wake-up is never
// missed by a live process; sleeps are still bounded by a backstop of five
// seconds, which covers a wake-up lost to a process killed between two of
// these steps (no idle waiter wakes more often than that). The process that
// takes a side's lock over from a dead holder also wakes every sleeper, so
// that a Put or Get killed mid-way strands no one once the ring moves again. A
// sleeper also records its owner id in its side's table while it sleeps, so
// that the count a killed sleeper leaves behind is taken back by the next
// sleeper that finds its process dead (see wait.go): otherwise every later
// publish would pay a futex system call for a sleeper that is gone.
package ring

import (
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/rlock"
)

// Errors callers test for.
var (
	ErrClosed   = errors.New("queue is closed")
	ErrFull     = errors.New("queue is full")
	ErrEmpty    = errors.New("queue is empty")
	ErrTooLarge = errors.New("message can never fit in the queue")
	// ErrCorrupt is the arena's, so that callers test one sentinel for
	// any damaged shared memory.
	ErrCorrupt = arena.ErrCorrupt
)

const (
	magic = 0x474e4952 // "RING"

	// recHdr is the length prefix of a variable-size record: the length and
	// its complement, which catches a header overwritten by a stray writer.
	recHdr = 8
	// align is the alignment of every record; it keeps a record header from
	// straddling the end of the data area.
	align = 8

	// MinSize is the smallest data area; MaxSize the largest, which keeps
	// byte positions meaningful modulo 2^32.
	MinSize = 64
	MaxSize = 1 << 30
	// MaxItems bounds the item capacity, for the same reason.
	MaxItems = 1 << 30
)

// header is the shared part of a ring. Each group of fields that one side
// writes sits on its own cache line, so producers and consumers do not
// invalidate each other's lines more than the handoff requires.
type header struct {
	magic   uint32
	closed  uint32
	size    uint64 // data bytes, a power of two
	byteCap uint64 // bytes of records the ring may hold, <= size
	itemCap uint64 // records the ring may hold
	fixed   uint64 // payload size of fixed-size records, or 0 for length-prefixed ones
	_       [64 - 40]byte

	prodLock rlock.State
	tail     uint64 // packed position and count, published last
	headSeen uint64 // the producers' last look at head
	_        [64 - 24]byte

	consLock rlock.State
	head     uint64
	tailSeen uint64 // the consumers' last look at tail
	_        [64 - 24]byte

	notEmpty sleepSide // consumers waiting for a record
	notFull  sleepSide // producers waiting for space
}

// HeaderSize is how many bytes precede the data area.
const HeaderSize = int(unsafe.Sizeof(header{}))

// Layout checks: 64-bit atomics need 8-byte alignment and the lines must not
// drift.
var (
	_ [HeaderSize - (3+2*5)*64]byte
	_ [(3+2*5)*64 - HeaderSize]byte
	_ [1 - unsafe.Offsetof(header{}.tail)%8]byte
	_ [1 - unsafe.Offsetof(header{}.head)%8]byte
)

// Config sizes a ring.
type Config struct {
	ByteCap uint64 // bytes of records the ring may hold
	ItemCap uint64 // records the ring may hold
	// Fixed makes every record carry exactly Fixed bytes, in a slot of Fixed
	// rounded up to 8 with no length prefix; 0 means length-prefixed
	// records of any size.
	Fixed uint64
}

// Size returns how many bytes Init needs for c: the header and a data area
// of ByteCap rounded up to a power of two.
func (c Config) Size() (uint64, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	return uint64(HeaderSize) + dataSize(c.ByteCap), nil
}

func (c Config) check() error {
	switch {
	case c.ByteCap < MinSize || c.ByteCap > MaxSize:
		return fmt.Errorf("ring: byte capacity %d is outside [%d, %d]", c.ByteCap, MinSize, MaxSize)
	case c.ItemCap < 1 || c.ItemCap > MaxItems:
		return fmt.Errorf("ring: item capacity %d is outside [1, %d]", c.ItemCap, MaxItems)
	case c.Fixed > c.ByteCap || roundUp(c.Fixed) > c.ByteCap:
		return fmt.Errorf("ring: %d-byte records do not fit %d bytes", c.Fixed, c.ByteCap)
	}
	return nil
}

func roundUp(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }

func dataSize(byteCap uint64) uint64 {
	if byteCap <= MinSize {
		return MinSize
	}
	return 1 << bits.Len64(byteCap-1)
}

// Init lays out an empty ring in the n zeroed bytes at mem, which must be
// 64-byte aligned for the cache-line layout to hold.
func Init(mem unsafe.Pointer, n uint64, c Config) error {
	need, err := c.Size()
	if err != nil {
		return err
	}
	if n < need {
		return fmt.Errorf("ring: %d bytes is too small for a ring needing %d", n, need)
	}
	h := (*header)(mem)
	h.size, h.byteCap, h.itemCap, h.fixed = dataSize(c.ByteCap), c.ByteCap, c.ItemCap, c.Fixed
	atomic.StoreUint32(&h.magic, magic)
	return nil
}

// Ring is one process's view of a shared ring. Its configuration is copied
// from shared memory once, at Attach, after validation: later scribbles on
// the header cannot change the bounds this process uses.
type Ring struct {
	h      *header
	data   unsafe.Pointer
	mask   uint64
	cfg    Config
	self   uint32
	owners rlock.Owners
	// lastHeal is when this process last looked for dead sleepers.
	lastHeal atomic.Int64
}

// Attach validates the ring at mem (n bytes) and returns a view of it for the
// process whose lock owner id is self.
func Attach(mem unsafe.Pointer, n uint64, self uint32, owners rlock.Owners) (*Ring, error) {
	if n < uint64(HeaderSize) {
		return nil, fmt.Errorf("%w: %d bytes cannot hold a ring header", ErrCorrupt, n)
	}
	h := (*header)(mem)
	if atomic.LoadUint32(&h.magic) != magic {
		return nil, fmt.Errorf("%w: no ring header", ErrCorrupt)
	}
	c := Config{ByteCap: atomic.LoadUint64(&h.byteCap), ItemCap: atomic.LoadUint64(&h.itemCap), Fixed: atomic.LoadUint64(&h.fixed)}
	size := atomic.LoadUint64(&h.size)
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if size != dataSize(c.ByteCap) || size > n-uint64(HeaderSize) {
		return nil, fmt.Errorf("%w: data area of %d bytes in %d (byte capacity %d)", ErrCorrupt, size, n, c.ByteCap)
	}
	return &Ring{
		h:      h,
		data:   unsafe.Add(mem, HeaderSize),
		mask:   size - 1,
		cfg:    c,
		self:   self,
		owners: owners,
	}, nil
}

// Config returns the ring's configuration.
func (r *Ring) Config() Config { return r.cfg }

// RecordSize returns how many bytes of capacity a payload of n bytes takes.
func (r *Ring) RecordSize(n int) uint64 {
	if r.cfg.Fixed != 0 {
		return roundUp(r.cfg.Fixed)
	}
	return recHdr + roundUp(uint64(n))
}

// Len returns the number of records in the ring.
func (r *Ring) Len() int {
	// Head first: the tail read after it is never behind it.
	hd := atomic.LoadUint64(&r.h.head)
	tl := atomic.LoadUint64(&r.h.tail)
	n := count(tl) - count(hd)
	if uint64(n) > r.cfg.ItemCap {
		// Only a corrupt word gets here; report the bound, not nonsense.
		return int(r.cfg.ItemCap)
	}
	return int(n)
}

// Closed reports whether Close was called.
func (r *Ring) Closed() bool { return atomic.LoadUint32(&r.h.closed) != 0 }

// packed position and count helpers.
func pos(w uint64) uint32              { return uint32(w >> 32) }
func count(w uint64) uint32            { return uint32(w) }
func pack(p, c uint32) uint64          { return uint64(p)<<32 | uint64(c) }
func used(tl, hd uint64) (b, n uint32) { return pos(tl) - pos(hd), count(tl) - count(hd) }

// valid reports whether tail and head describe a possible ring state.
func (r *Ring) valid(tl, hd uint64) error {
	b, n := used(tl, hd)
	if uint64(b) > r.cfg.ByteCap || uint64(n) > r.cfg.ItemCap || b%align != 0 || pos(tl)%align != 0 ||
		(n == 0) != (b == 0) {
		return fmt.Errorf("%w: head %#x and tail %#x (capacity %d bytes, %d items)", ErrCorrupt, hd, tl, r.cfg.ByteCap, r.cfg.ItemCap)
	}
	return nil
}

// at returns the data area from masked position p as up to two spans of n
// bytes in total: the second is nonempty when the span wraps.
func (r *Ring) at(p uint32, n uint64) ([]byte, []byte) {
	off := uint64(p) & r.mask
	first := min(n, r.mask+1-off)
	a := unsafe.Slice((*byte)(unsafe.Add(r.data, off)), first)
	if first == n {
		return a, nil
	}
	return a, unsafe.Slice((*byte)(r.data), n-first)
}

func (r *Ring) word(p uint32) *uint64 {
	return (*uint64)(unsafe.Add(r.data, uint64(p)&r.mask))
}
