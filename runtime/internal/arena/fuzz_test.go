package arena

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// FuzzCorruptImage patches a valid arena image with the fuzzer's bytes and
// then does what a process attaching to it would do: open it, look up
// objects, allocate and free. Every step may fail, none may crash or hang.
//
// The input is a list of patches (4 bytes of offset, 1 byte of value). The
// allocator's lock word is left alone: a lock word naming a live holder
// makes Alloc wait, which is the lock working, not a corruption to detect.
func FuzzCorruptImage(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 'X'})                   // magic
	f.Add([]byte{8, 0, 0, 0, 9})                     // version
	f.Add([]byte{16, 0, 0, 0, 1})                    // size
	f.Add([]byte{48, 0, 0, 0, 0xff, 49, 0, 0, 0, 7}) // bump pointer
	f.Add([]byte{0x10, 0x10, 1, 0, 0x55})            // first block header
	f.Add([]byte{0x28, 0x10, 1, 0, 0xff})            // first object's length
	f.Add([]byte{0x18, 0x11, 1, 0, 0x01})            // a free block's next
	f.Fuzz(func(t *testing.T, patches []byte) {
		words := make([]uint64, MinSize/8)
		mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), MinSize)
		a, err := Format(mem)
		if err != nil {
			t.Fatal(err)
		}
		var offs []uint64
		for i := range 4 {
			ref, err := a.NewObject(KindValue, 1, 9, 16*(i+1))
			if err != nil {
				t.Fatal(err)
			}
			offs = append(offs, ref.Off)
		}
		a.FreeObject(offs[1])
		a.Close()

		lockOff := uint64(unsafe.Offsetof(header{}.Alloc))
		for len(patches) >= 5 {
			off := uint64(binary.LittleEndian.Uint32(patches)) % MinSize
			if off < lockOff || off >= lockOff+8 {
				mem[off] = patches[4]
			}
			patches = patches[5:]
		}

		b, err := OpenMem(mem)
		if err != nil {
			return
		}
		defer b.Close()
		for _, off := range offs {
			if ref, err := b.Object(off, KindValue, 1, 9); err == nil && ref.Len > 0 {
				// A validated object's data must be addressable in full.
				_ = *(*byte)(unsafe.Add(ref.Data, ref.Len-1))
			}
		}
		for i := range 3 {
			off, err := b.Alloc(24 << i)
			if err != nil {
				continue
			}
			b.Free(off)
		}
	})
}
