package arena

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Kind says what a shared object is.
type Kind uint16

// Object kinds. Values are part of the layout: never renumber.
const (
	KindLock Kind = 1 + iota
	KindValue
	KindArray
	KindQueue
	KindDict
	KindList
	KindDirectory
	// KindSync is a synchronisation object (Event, Semaphore, Barrier,
	// Condition, RLock, Pipe); its fingerprint says which.
	KindSync
)

func (k Kind) String() string {
	names := [...]string{"", "Lock", "Value", "Array", "Queue", "Dict", "List", "Directory", "Sync"}
	if int(k) < len(names) && k != 0 {
		return names[k]
	}
	return fmt.Sprintf("Kind(%d)", uint16(k))
}

// objHeader opens every object. Magic is written last, so a half-built
// object is never taken for a whole one.
type objHeader struct {
	magic   uint32
	kind    Kind
	version uint16
	fp      uint64
	length  uint64
	_       uint64
}

const (
	objMagic = 0x424f504d // "MPOB"
	// ObjHeader is the size of the header before an object's data.
	ObjHeader = int(unsafe.Sizeof(objHeader{}))
)

// Ref is one object of an arena, as seen from this process.
type Ref struct {
	Arena *Arena
	Off   uint64         // offset of the object header
	Data  unsafe.Pointer // the object's data, just after the header
	Len   uint64         // length of the data
}

// NewObject allocates an object with length bytes of zeroed data.
func (a *Arena) NewObject(kind Kind, version uint16, fp uint64, length int) (Ref, error) {
	off, err := a.Alloc(ObjHeader + length)
	if err != nil {
		return Ref{}, err
	}
	h := (*objHeader)(unsafe.Pointer(&a.mem[off]))
	h.kind, h.version, h.fp, h.length = kind, version, fp, uint64(length)
	atomic.StoreUint32(&h.magic, objMagic)
	return Ref{Arena: a, Off: off, Data: unsafe.Pointer(&a.mem[off+uint64(ObjHeader)]), Len: uint64(length)}, nil
}

// Object checks that an object of the given kind, version and fingerprint
// starts at off and returns it.
func (a *Arena) Object(off uint64, kind Kind, version uint16, fp uint64) (Ref, error) {
	capacity, err := a.Capacity(off)
	if err != nil {
		return Ref{}, fmt.Errorf("%s at offset %d: %w", kind, off, err)
	}
	if capacity < uint64(ObjHeader) {
		return Ref{}, fmt.Errorf("%s at offset %d: %w: block too small", kind, off, ErrCorrupt)
	}
	h := (*objHeader)(unsafe.Pointer(&a.mem[off]))
	switch {
	case atomic.LoadUint32(&h.magic) != objMagic:
		return Ref{}, fmt.Errorf("%s at offset %d: %w: no object header", kind, off, ErrCorrupt)
	case h.kind != kind:
		return Ref{}, fmt.Errorf("offset %d holds a %s, not a %s: %w", off, h.kind, kind, ErrTypeMismatch)
	case h.version != version:
		return Ref{}, fmt.Errorf("%s at offset %d: %w: layout version %d, this program reads %d", kind, off, ErrCorrupt, h.version, version)
	case h.fp != fp:
		return Ref{}, fmt.Errorf("%s at offset %d was made for another element type: %w", kind, off, ErrTypeMismatch)
	case h.length > capacity-uint64(ObjHeader):
		return Ref{}, fmt.Errorf("%s at offset %d: %w: length %d exceeds its block", kind, off, ErrCorrupt, h.length)
	}
	return Ref{Arena: a, Off: off, Data: unsafe.Pointer(&a.mem[off+uint64(ObjHeader)]), Len: h.length}, nil
}

// FreeObject releases an object's memory. Handles to it must not be used.
func (a *Arena) FreeObject(off uint64) error {
	if _, err := a.Capacity(off); err != nil {
		return err
	}
	h := (*objHeader)(unsafe.Pointer(&a.mem[off]))
	atomic.StoreUint32(&h.magic, 0)
	return a.Free(off)
}

// Handle encoding: what a handle sends to another process (through a worker
// argument, a Queue or a Dict): which arena, where, and what it expects.
const (
	handleVersion = 1
	// HandleSize is the length of an encoded handle.
	HandleSize = 1 + 16 + 8 + 2 + 8
)

// Encode returns the portable form of the object's handle.
func (r Ref) Encode(kind Kind, fp uint64) []byte {
	b := make([]byte, HandleSize)
	b[0] = handleVersion
	copy(b[1:17], r.Arena.id[:])
	binary.LittleEndian.PutUint64(b[17:], r.Off)
	binary.LittleEndian.PutUint16(b[25:], uint16(kind))
	binary.LittleEndian.PutUint64(b[27:], fp)
	return b
}

// Decode resolves an encoded handle to an object of an arena this process
// has open, checking that it is of the expected kind, version and type.
func Decode(b []byte, kind Kind, version uint16, fp uint64) (Ref, error) {
	if len(b) != HandleSize || b[0] != handleVersion {
		return Ref{}, fmt.Errorf("%w: encoded %s handle of %d bytes, version %d", ErrCorrupt, kind, len(b), firstByte(b))
	}
	var id [16]byte
	copy(id[:], b[1:17])
	off := binary.LittleEndian.Uint64(b[17:])
	if got := Kind(binary.LittleEndian.Uint16(b[25:])); got != kind {
		return Ref{}, fmt.Errorf("encoded handle is a %s, not a %s: %w", got, kind, ErrTypeMismatch)
	}
	if got := binary.LittleEndian.Uint64(b[27:]); got != fp {
		return Ref{}, fmt.Errorf("encoded %s handle was made for another element type: %w", kind, ErrTypeMismatch)
	}
	a, err := Lookup(id)
	if err != nil {
		return Ref{}, err
	}
	return a.Object(off, kind, version, fp)
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}
