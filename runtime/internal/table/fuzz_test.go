package table

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
)

// FuzzCorruptContainers builds a Map and a List in an arena image, lets the
// fuzzer overwrite bytes where they live (headers, slots, entries, block
// headers), and then uses both: every operation must return, with or
// without an error, and never crash or hang.
func FuzzCorruptContainers(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0xff, 8, 0, 0x40, 16, 0, 1})
	f.Add([]byte{32, 0, 0xff, 33, 0, 0xff, 34, 0, 0xff, 35, 0, 0xff})
	f.Add(binary.LittleEndian.AppendUint16(nil, 700))
	f.Fuzz(runPatch)
}

// runPatch is one run of FuzzCorruptContainers.
func runPatch(t *testing.T, patch []byte) {
	mem := make([]uint64, arena.MinSize/8)
	img := unsafe.Slice((*byte)(unsafe.Pointer(&mem[0])), arena.MinSize)
	a, err := arena.Format(img)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hdr, err := a.Alloc(2 * HeaderSize)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := a.Pointer(hdr, 2*HeaderSize)
	m := AttachMap(a, p)
	l := AttachList(a, unsafe.Add(p, HeaderSize))
	for i := range 20 {
		k := fmt.Appendf(nil, "k%d", i)
		if m.Set(k, Hash(k), k) != nil || l.Append(k) != nil {
			t.Fatal("building the containers failed")
		}
	}
	used := int(a.InUse()) + 2*HeaderSize
	for i := 0; i+3 <= len(patch); i += 3 {
		off := int(binary.LittleEndian.Uint16(patch[i:])) % used
		img[hdr-16+uint64(off)] = patch[i+2]
	}
	// A lock word the fuzzer set to a live-looking owner would make
	// Lock wait for it; a dead one is recovered (and is the case worth
	// testing), so the owner words are reset to a dead owner or zero.
	for _, mu := range []*uint32{(*uint32)(unsafe.Pointer(m.mu)), (*uint32)(unsafe.Pointer(l.mu))} {
		if *mu != 0 {
			*mu = deadOwner
		}
	}
	k := []byte("k3")
	if m.Lock() == nil {
		m.Get(k, Hash(k), nil)
		m.Set([]byte("new"), Hash([]byte("new")), []byte("v"))
		m.Delete(k, Hash(k))
		m.Each(func(k, v []byte) error { return nil })
		m.Unlock()
	}
	if l.Lock() == nil {
		l.Get(3, nil)
		l.Set(2, []byte("x"))
		l.Append([]byte("y"))
		l.Pop(nil)
		l.Each(func(int, []byte) error { return nil })
		l.Unlock()
	}
}
