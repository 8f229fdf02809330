// Package arena holds the shared memory that runtime/mp's objects live in: a
// file mapped whole, MAP_SHARED, by every process that uses it, with a header,
// a table of the processes attached to it, and an allocator.
//
// Offsets, never pointers, cross process boundaries: each process maps the
// arena at its own address. Everything read from the arena is untrusted,
// because any attached process (or a stray writer) may have scribbled on it,
// so every offset, length and header is checked before use and a bad one is
// an error wrapping ErrCorrupt, never a crash of the reader.
//
// Layout (all offsets from the start of the file):
//
//	0                header: magic, version, size, id, allocator state
//	slotsOff         process table: MaxSlots entries of 16 bytes
//	DataStart        blocks, each a 16-byte block header and its payload
//
// Liveness of the processes attached to an arena, and sleeping until one of
// them dies, are described in slots.go and watch.go.
package arena

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/rlock"
	"golang.org/x/sys/unix"
)

// Errors callers test for. Each is wrapped with the details of the case.
var (
	ErrCorrupt          = errors.New("shared memory is corrupt or foreign")
	ErrTypeMismatch     = errors.New("shared object has another type")
	ErrNoSpace          = errors.New("shared arena is full")
	ErrTooManyProcesses = errors.New("too many processes attached to the shared arena")
	ErrUnknownArena     = errors.New("handle refers to a shared arena this process has not opened")
)

const (
	magic = "MPRACE\x00A"
	// Version is the layout version; an arena of another version is refused.
	// Version 2 judges liveness by file locks on the process table, which
	// version 1 processes would not take.
	Version = 2

	slotsOff = 4096
	// MaxSlots is how many processes can be attached at once.
	MaxSlots = 4095
	// DataStart is where the first block begins.
	DataStart = slotsOff + 16*(MaxSlots+1)
	// MinSize is the smallest arena that can hold anything.
	MinSize = DataStart + 1<<16

	numClasses = 48
	numRoots   = 8
)

type header struct {
	Magic     [8]byte
	Version   uint32
	SlotCount uint32
	Size      uint64
	ID        [16]byte
	Alloc     rlock.State
	Bump      uint64
	Free      [numClasses]uint64
	// Roots are well-known offsets for named objects (a directory); 0 = unset.
	Roots [numRoots]uint64
	// NextSlot is where the next process starts looking for a free slot,
	// so that claims do not all probe the same taken slots.
	NextSlot uint32
}

// The header must fit before the process table, and its 64-bit words must be
// 8-aligned for atomics on every architecture.
var _ [slotsOff - unsafe.Sizeof(header{})]byte
var _ [1 - unsafe.Offsetof(header{}.Bump)%8]byte

// Arena is one mapped shared arena.
type Arena struct {
	mem   []byte
	file  *os.File // nil for an arena over plain memory (tests)
	hdr   *header
	slots *[MaxSlots]slot
	self  uint32 // this process's owner id in locks of this arena
	// lockFD is this process's own open file description of the arena
	// file, which holds its slot's lock (-1 for plain memory).
	lockFD int
	id     [16]byte
	watch  watchers
	// closed is set by Close before the memory goes, so that a handle used
	// afterwards can say so instead of faulting on an unmapped address.
	closed atomic.Bool
	// named is set for arenas with a name (see fault.go), broken once a
	// fault was caught in the mapping.
	named  bool
	name   string // of a named arena
	broken atomic.Bool
}

var registry struct {
	sync.Mutex
	m map[[16]byte]*Arena
}

// Create makes a new anonymous arena of the given size on a memfd. The file
// is sparse: memory is used only where objects are written.
func Create(size int64) (*Arena, error) {
	if size < MinSize {
		return nil, fmt.Errorf("arena: size %d is below the minimum %d", size, MinSize)
	}
	fd, err := unix.MemfdCreate("mprace", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("arena: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mprace-arena")
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("arena: size memfd to %d bytes: %w", size, err)
	}
	// No process, not even one that opens /proc/PID/fd/N, may shrink the
	// file under the mappings: touching a page past the end is SIGBUS.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("arena: seal memfd: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("arena: mmap %d bytes: %w", size, err)
	}
	a, err := format(mem, fd)
	if err != nil {
		unix.Munmap(mem)
		f.Close()
		return nil, err
	}
	a.file = f
	return a, nil
}

// Format writes a fresh header into mem and attaches to it. Create uses it;
// tests use it on plain memory.
func Format(mem []byte) (*Arena, error) { return format(mem, -1) }

// format formats mem and attaches to it with lockFD as this process's
// description of the file behind mem (-1: plain memory).
func format(mem []byte, lockFD int) (*Arena, error) {
	if len(mem) < MinSize {
		return nil, fmt.Errorf("arena: size %d is below the minimum %d", len(mem), MinSize)
	}
	h := (*header)(unsafe.Pointer(&mem[0]))
	h.Version = Version
	h.SlotCount = MaxSlots
	h.Size = uint64(len(mem))
	h.Bump = DataStart
	if err := ReadRandom(h.ID[:]); err != nil {
		return nil, fmt.Errorf("arena: random id: %w", err)
	}
	copy(h.Magic[:], magic)
	return attach(mem, lockFD)
}

// Open maps an existing arena file and attaches to it. f must be this
// process's own open file description of it (opened by this process, not
// inherited): the description holds the lock that says this process is
// alive, and a description shared with another process would keep saying so
// after this one died.
func Open(f *os.File) (*Arena, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("arena: stat %s: %w", f.Name(), err)
	}
	size := st.Size()
	if size < MinSize || size != int64(int(size)) {
		return nil, fmt.Errorf("arena: %s: %w: size %d", f.Name(), ErrCorrupt, size)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("arena: mmap %s: %w", f.Name(), err)
	}
	a, err := attach(mem, int(f.Fd()))
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("arena: %s: %w", f.Name(), err)
	}
	a.file = f
	return a, nil
}

// OpenMem attaches to an arena image in plain memory (8-byte aligned), which
// must have been written by Format. It exists for tests and fuzzing.
func OpenMem(mem []byte) (*Arena, error) { return attach(mem, -1) }

func attach(mem []byte, lockFD int) (*Arena, error) {
	if len(mem) < MinSize || uintptr(unsafe.Pointer(&mem[0]))%8 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is too small for an arena", ErrCorrupt, len(mem))
	}
	h := (*header)(unsafe.Pointer(&mem[0]))
	switch {
	case string(h.Magic[:]) != magic:
		return nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, h.Magic[:])
	case h.Version != Version:
		return nil, fmt.Errorf("%w: layout version %d, this program reads version %d", ErrCorrupt, h.Version, Version)
	case h.SlotCount != MaxSlots:
		return nil, fmt.Errorf("%w: %d process slots, expected %d", ErrCorrupt, h.SlotCount, MaxSlots)
	case h.Size != uint64(len(mem)):
		return nil, fmt.Errorf("%w: header says %d bytes, mapping has %d", ErrCorrupt, h.Size, len(mem))
	}
	a := &Arena{
		mem:    mem,
		hdr:    h,
		slots:  (*[MaxSlots]slot)(unsafe.Pointer(&mem[slotsOff])),
		id:     h.ID,
		lockFD: lockFD,
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[a.id]; dup {
		return nil, fmt.Errorf("arena: %x is already open in this process", a.id)
	}
	if err := a.claimSlot(); err != nil {
		return nil, err
	}
	if registry.m == nil {
		registry.m = make(map[[16]byte]*Arena)
	}
	registry.m[a.id] = a
	return a, nil
}

// Close unmaps the arena and releases this process's slot. Handles into it
// must not be used afterwards.
func (a *Arena) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	registry.Lock()
	delete(registry.m, a.id)
	registry.Unlock()
	a.stopWatchers()
	a.releaseSlot()
	var err error
	if a.file != nil {
		err = unix.Munmap(a.mem)
		if cerr := a.file.Close(); err == nil {
			err = cerr
		}
	}
	a.mem = nil
	return err
}

// Closed reports whether Close was called. Handles check it before they touch
// the arena; Close must still not race with their use.
func (a *Arena) Closed() bool { return a.closed.Load() }

// NamedIn returns the name of a named arena open in this process whose id
// appears in b, and whether there is one. Start uses it to refuse an
// argument holding a Manager's handle, which a new worker could not resolve:
// an encoded handle holds its arena's 16 random id bytes verbatim.
func NamedIn(b []byte) (string, bool) {
	registry.Lock()
	defer registry.Unlock()
	for id, a := range registry.m {
		if a.named && bytes.Contains(b, id[:]) {
			return a.name, true
		}
	}
	return "", false
}

// Lookup finds an open arena by id.
func Lookup(id [16]byte) (*Arena, error) {
	registry.Lock()
	defer registry.Unlock()
	if a, ok := registry.m[id]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("%w (id %x)", ErrUnknownArena, id)
}

// ID returns the arena's random identity.
func (a *Arena) ID() [16]byte { return a.id }

// Size returns the arena's size in bytes.
func (a *Arena) Size() int64 { return int64(len(a.mem)) }

// File returns the file behind the arena (nil for plain memory).
func (a *Arena) File() *os.File { return a.file }

// Self returns this process's nonzero owner id for locks in this arena.
func (a *Arena) Self() uint32 { return a.self }

// Root returns the address of well-known root word i, for directories of
// named objects.
func (a *Arena) Root(i int) *uint64 { return &a.hdr.Roots[i] }

// Pointer returns the address of n bytes at off, or an ErrCorrupt error if
// they are not inside the data area.
func (a *Arena) Pointer(off, n uint64) (unsafe.Pointer, error) {
	if off < DataStart || off > uint64(len(a.mem)) || n > uint64(len(a.mem))-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d are outside the arena (%d bytes)", ErrCorrupt, n, off, len(a.mem))
	}
	return unsafe.Pointer(&a.mem[off]), nil
}

// Offset converts an address inside the arena back to an offset.
func (a *Arena) Offset(p unsafe.Pointer) uint64 {
	return uint64(uintptr(p) - uintptr(unsafe.Pointer(&a.mem[0])))
}
