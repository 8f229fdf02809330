package arena

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"unsafe"
)

// memArena formats an arena over plain, 8-aligned memory.
func memArena(t testing.TB, size int) (*Arena, []byte) {
	t.Helper()
	words := make([]uint64, size/8)
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	a, err := Format(mem)
	if err != nil {
		t.Fatalf("Format: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a, mem
}

func TestCreateOpenShareMemory(t *testing.T) {
	a, err := Create(MinSize * 4)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ref, err := a.NewObject(KindValue, 1, 42, 8)
	if err != nil {
		t.Fatal(err)
	}
	*(*uint64)(ref.Data) = 0xfeed
	// A second mapping of the same file sees the write: what a worker sees.
	mem, err := os.ReadFile("/proc/self/fd/" + strconv.Itoa(int(a.File().Fd())))
	if err != nil {
		t.Fatal(err)
	}
	if got := *(*uint64)(unsafe.Pointer(&mem[ref.Off+uint64(ObjHeader)])); got != 0xfeed {
		t.Fatalf("second view reads %#x, want 0xfeed", got)
	}
}

func TestAllocReusesFreedBlocks(t *testing.T) {
	a, _ := memArena(t, MinSize*2)
	first, err := a.Alloc(100)
	if err != nil {
		t.Fatal(err)
	}
	used := a.InUse()
	for i := range 100000 {
		off, err := a.Alloc(100)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := a.Free(off); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	if a.InUse() != used+128 {
		t.Fatalf("in use grew from %d to %d over alloc/free cycles", used, a.InUse())
	}
	if err := a.Free(first); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(first); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("double free: %v, want ErrCorrupt", err)
	}
}

func TestAllocZeroesAndFills(t *testing.T) {
	a, _ := memArena(t, MinSize)
	off, err := a.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := a.Pointer(off, 64)
	b := unsafe.Slice((*byte)(p), 64)
	for i := range b {
		b[i] = 0xff
	}
	a.Free(off)
	off2, _ := a.Alloc(64)
	if off2 != off {
		t.Fatalf("freed block not reused: %d then %d", off, off2)
	}
	for i, c := range b {
		if c != 0 {
			t.Fatalf("reused block byte %d = %#x, want zeroed", i, c)
		}
	}
	for {
		if _, err := a.Alloc(4096); err != nil {
			if !errors.Is(err, ErrNoSpace) {
				t.Fatalf("full arena: %v, want ErrNoSpace", err)
			}
			break
		}
	}
	if _, err := a.Alloc(1 << 40); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("huge allocation: %v, want ErrNoSpace", err)
	}
}

func TestObjectChecks(t *testing.T) {
	a, mem := memArena(t, MinSize)
	ref, err := a.NewObject(KindArray, 1, 7, 40)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Object(ref.Off, KindArray, 1, 7); err != nil {
		t.Fatalf("valid object: %v", err)
	}
	cases := []struct {
		name    string
		off     uint64
		kind    Kind
		version uint16
		fp      uint64
		want    error
	}{
		{"other kind", ref.Off, KindValue, 1, 7, ErrTypeMismatch},
		{"other type", ref.Off, KindArray, 1, 8, ErrTypeMismatch},
		{"other version", ref.Off, KindArray, 2, 7, ErrCorrupt},
		{"not an object", ref.Off + 16, KindArray, 1, 7, ErrCorrupt},
		{"outside", uint64(len(mem)) + 64, KindArray, 1, 7, ErrCorrupt},
		{"in header", 64, KindArray, 1, 7, ErrCorrupt},
		{"unaligned", ref.Off + 3, KindArray, 1, 7, ErrCorrupt},
	}
	for _, c := range cases {
		if _, err := a.Object(c.off, c.kind, c.version, c.fp); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A length beyond the block is caught.
	(*objHeader)(unsafe.Pointer(&mem[ref.Off])).length = 1 << 20
	if _, err := a.Object(ref.Off, KindArray, 1, 7); !errors.Is(err, ErrCorrupt) {
		t.Errorf("oversized length: %v, want ErrCorrupt", err)
	}
}

func TestHandleEncoding(t *testing.T) {
	a, _ := memArena(t, MinSize)
	ref, _ := a.NewObject(KindLock, 1, 0, 8)
	b := ref.Encode(KindLock, 0)
	got, err := Decode(b, KindLock, 1, 0)
	if err != nil || got.Off != ref.Off || got.Data != ref.Data {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, ref)
	}
	if _, err := Decode(b, KindValue, 1, 0); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("decode as other kind: %v", err)
	}
	if _, err := Decode(b[:5], KindLock, 1, 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short handle: %v", err)
	}
	foreign := append([]byte(nil), b...)
	foreign[1] ^= 0xff
	if _, err := Decode(foreign, KindLock, 1, 0); !errors.Is(err, ErrUnknownArena) {
		t.Errorf("foreign arena: %v", err)
	}
}

func TestOpenRejectsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"empty": nil,
		"small": []byte("hello"),
		"zeros": make([]byte, MinSize),
	} {
		p := dir + "/" + name
		os.WriteFile(p, content, 0o600)
		f, _ := os.OpenFile(p, os.O_RDWR, 0)
		if a, err := Open(f); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Open = %v, %v; want ErrCorrupt", name, a, err)
		}
		f.Close()
	}
	_, mem := memArena(t, MinSize)
	img := append([]byte(nil), mem...)
	(*header)(unsafe.Pointer(&img[0])).Version = 99
	p := dir + "/version"
	os.WriteFile(p, img, 0o600)
	f, _ := os.OpenFile(p, os.O_RDWR, 0)
	defer f.Close()
	if _, err := Open(f); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other version: %v, want ErrCorrupt", err)
	}
}

func TestAliveInPlainMemory(t *testing.T) {
	a, _ := memArena(t, MinSize)
	if !a.Alive(a.Self()) {
		t.Fatal("own id reads as dead")
	}
	if a.Alive(ownerID(5, 1)) {
		t.Fatal("an id of an unclaimed slot reads as alive")
	}
	if a.Alive(0) || a.Alive(1<<31) {
		t.Fatal("an id naming no slot reads as alive")
	}
	me := slotOf(a.Self())
	if a.Alive(ownerID(me, a.slots[me].gen+1)) {
		t.Fatal("an id of another generation of a live slot reads as alive")
	}
}
