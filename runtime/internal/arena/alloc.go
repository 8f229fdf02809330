package arena

// The allocator hands out blocks of power-of-two sizes, 64 bytes and up,
// from a bump pointer, and keeps freed blocks on one list per size so that
// they are reused: memory use stays bounded under churn. Its state lives in
// the header under the header's lock, so any attached process can allocate
// and free. A process that dies mid-operation can leak one block at worst;
// each step leaves the lists well formed, so the next process recovers the
// lock and goes on.

import (
	"fmt"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

const (
	blockHdr      = 16
	minClassShift = 6
	blockMagic    = 0x4b4c424d // "MBLK"
	stateUsed     = 1
	stateFree     = 2
)

type block struct {
	magic uint32
	class uint8
	state uint8
	_     uint16
	next  uint64
}

func classSize(c int) uint64 { return 1 << (minClassShift + c) }

// classFor returns the smallest class whose blocks hold n payload bytes.
func classFor(n uint64) (int, bool) {
	need := n + blockHdr
	if need < n {
		return 0, false
	}
	c := 0
	if need > 1<<minClassShift {
		c = bits.Len64(need-1) - minClassShift
	}
	return c, c < numClasses
}

// Alloc returns the offset of n zeroed bytes, 16-byte aligned.
func (a *Arena) Alloc(n int) (uint64, error) {
	c, ok := classFor(uint64(n))
	if !ok || classSize(c) > uint64(len(a.mem))-DataStart {
		return 0, fmt.Errorf("arena: allocate %d bytes: %w (arena is %d bytes)", n, ErrNoSpace, len(a.mem))
	}
	// A dead holder can only have leaked a block (see above), so the lock
	// is taken over without ceremony.
	_ = a.hdr.Alloc.Lock(a.self, a)
	off, err := a.take(c)
	a.hdr.Alloc.Unlock()
	if err != nil {
		return 0, fmt.Errorf("arena: allocate %d bytes: %w", n, err)
	}
	p := unsafe.Pointer(&a.mem[off+blockHdr])
	clear(unsafe.Slice((*byte)(p), n))
	return off + blockHdr, nil
}

func (a *Arena) take(c int) (uint64, error) {
	size := classSize(c)
	if head := a.hdr.Free[c]; head != 0 {
		b, err := a.block(head)
		if err != nil {
			return 0, fmt.Errorf("free list %d: %w", c, err)
		}
		if b.state != stateFree || int(b.class) != c {
			return 0, fmt.Errorf("%w: block at %d on free list %d is class %d, state %d", ErrCorrupt, head, c, b.class, b.state)
		}
		if b.next != 0 {
			if _, err := a.block(b.next); err != nil {
				return 0, fmt.Errorf("free list %d: %w", c, err)
			}
		}
		a.hdr.Free[c] = b.next
		b.next = 0
		b.state = stateUsed
		return head, nil
	}
	off := atomic.LoadUint64(&a.hdr.Bump)
	if off < DataStart || off%blockHdr != 0 || off > uint64(len(a.mem)) {
		return 0, fmt.Errorf("%w: allocation pointer %d", ErrCorrupt, off)
	}
	if size > uint64(len(a.mem))-off {
		return 0, fmt.Errorf("%w (%d bytes used of %d)", ErrNoSpace, off, len(a.mem))
	}
	atomic.StoreUint64(&a.hdr.Bump, off+size)
	b := (*block)(unsafe.Pointer(&a.mem[off]))
	b.class = uint8(c)
	b.state = stateUsed
	b.next = 0
	b.magic = blockMagic
	return off, nil
}

// block checks that off is the start of a block and returns its header.
func (a *Arena) block(off uint64) (*block, error) {
	if off < DataStart || off%blockHdr != 0 || off > uint64(len(a.mem))-blockHdr {
		return nil, fmt.Errorf("%w: block offset %d", ErrCorrupt, off)
	}
	b := (*block)(unsafe.Pointer(&a.mem[off]))
	if b.magic != blockMagic || int(b.class) >= numClasses || classSize(int(b.class)) > uint64(len(a.mem))-off {
		return nil, fmt.Errorf("%w: no block at offset %d", ErrCorrupt, off)
	}
	return b, nil
}

// Free returns the block whose payload starts at off to its free list.
func (a *Arena) Free(off uint64) error {
	if off < blockHdr {
		return fmt.Errorf("arena: free %d: %w", off, ErrCorrupt)
	}
	_ = a.hdr.Alloc.Lock(a.self, a)
	defer a.hdr.Alloc.Unlock()
	b, err := a.block(off - blockHdr)
	if err != nil {
		return fmt.Errorf("arena: free %d: %w", off, err)
	}
	if b.state != stateUsed {
		return fmt.Errorf("arena: free %d: %w: block is not in use (double free?)", off, ErrCorrupt)
	}
	b.state = stateFree
	b.next = a.hdr.Free[b.class]
	a.hdr.Free[b.class] = off - blockHdr
	return nil
}

// Capacity returns how many payload bytes the block at off can hold.
func (a *Arena) Capacity(off uint64) (uint64, error) {
	if off < blockHdr {
		return 0, fmt.Errorf("%w: block offset %d", ErrCorrupt, off)
	}
	b, err := a.block(off - blockHdr)
	if err != nil {
		return 0, err
	}
	if b.state != stateUsed {
		return 0, fmt.Errorf("%w: block at %d is not in use", ErrCorrupt, off)
	}
	return classSize(int(b.class)) - blockHdr, nil
}

// InUse returns how many bytes the bump pointer has handed out, freed blocks
// included: the high-water mark of the arena.
func (a *Arena) InUse() uint64 { return atomic.LoadUint64(&a.hdr.Bump) - DataStart }
