package table

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
)

// deadOwner is an owner id naming a process slot nobody claimed: a lock held
// by it reads as held by a dead process.
const deadOwner = 4000

func newArena(t testing.TB, size int64) *arena.Arena {
	t.Helper()
	a, err := arena.Create(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func header(t testing.TB, a *arena.Arena) unsafe.Pointer {
	t.Helper()
	off, err := a.Alloc(HeaderSize)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Pointer(off, HeaderSize)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func key(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }

func mustLock(t testing.TB, lock func() error) {
	t.Helper()
	if err := lock(); err != nil {
		t.Fatal(err)
	}
}

func TestMapMatchesGoMap(t *testing.T) {
	a := newArena(t, 1<<28)
	m := AttachMap(a, header(t, a))
	model := map[string]string{}
	r := rand.New(rand.NewPCG(1, 2))
	mustLock(t, m.Lock)
	defer m.Unlock()
	for range 200000 {
		k := key(r.IntN(3000))
		h := Hash(k)
		switch r.IntN(3) {
		case 0:
			v := fmt.Sprint(r.Int64())
			if err := m.Set(k, h, []byte(v)); err != nil {
				t.Fatal(err)
			}
			model[string(k)] = v
		case 1:
			got, err := m.Delete(k, h)
			if err != nil {
				t.Fatal(err)
			}
			if _, want := model[string(k)]; got != want {
				t.Fatalf("Delete(%s) = %v, want %v", k, got, want)
			}
			delete(model, string(k))
		case 2:
			v, ok, err := m.Get(k, h, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want, wok := model[string(k)]; ok != wok || string(v) != want {
				t.Fatalf("Get(%s) = %q, %v; want %q, %v", k, v, ok, want, wok)
			}
		}
		if m.Len() != len(model) {
			t.Fatalf("Len = %d, want %d", m.Len(), len(model))
		}
	}
	seen := map[string]string{}
	err := m.Each(func(k, v []byte) error { seen[string(k)] = string(v); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != fmt.Sprint(model) {
		t.Fatalf("Each saw %d pairs differing from the model's %d", len(seen), len(model))
	}
}

func TestMapChurnReusesMemory(t *testing.T) {
	a := newArena(t, 1<<26)
	m := AttachMap(a, header(t, a))
	mustLock(t, m.Lock)
	defer m.Unlock()
	cycles := 2_000_000
	if testing.Short() {
		cycles = 200_000
	}
	var high uint64
	for i := range cycles {
		k := key(i)
		h := Hash(k)
		if err := m.Set(k, h, k); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		// Keep 100 keys live so that the table both grows and churns.
		if i >= 100 {
			old := key(i - 100)
			if ok, err := m.Delete(old, Hash(old)); err != nil || !ok {
				t.Fatalf("cycle %d: Delete = %v, %v", i, ok, err)
			}
		}
		if i == 10_000 {
			high = a.InUse()
		}
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want 100", m.Len())
	}
	if got := a.InUse(); got != high {
		t.Fatalf("arena use grew from %d to %d bytes under churn", high, got)
	}
}

func TestMapRepairsAfterDeadHolder(t *testing.T) {
	a := newArena(t, 1<<26)
	p := header(t, a)
	m := AttachMap(a, p)
	mustLock(t, m.Lock)
	for i := range 50 {
		if err := m.Set(key(i), Hash(key(i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	m.Unlock()
	// A process died after publishing an entry but before counting it.
	if !m.h.mu.TryLock(deadOwner) {
		t.Fatal("lock is held")
	}
	m.h.live = 7
	m.h.tombs = 3
	mustLock(t, m.Lock)
	defer m.Unlock()
	if m.Len() != 50 || m.h.tombs != 0 {
		t.Fatalf("after repair: live %d tombs %d, want 50 and 0", m.Len(), m.h.tombs)
	}
}

func TestMapCorruptIsAnError(t *testing.T) {
	a := newArena(t, 1<<26)
	m := AttachMap(a, header(t, a))
	mustLock(t, m.Lock)
	defer m.Unlock()
	for i := range 5 {
		if err := m.Set(key(i), Hash(key(i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	s, err := m.slots()
	if err != nil {
		t.Fatal(err)
	}
	var slot int
	for i := 1; i < len(s); i += 2 {
		if s[i] > tomb {
			slot = i
			break
		}
	}
	e, err := readEntry(a, s[slot])
	if err != nil {
		t.Fatal(err)
	}
	k := append([]byte(nil), e.key...)

	// An entry whose lengths overrun its block.
	h := (*entryHeader)(unsafe.Pointer(unsafe.SliceData(e.key)))
	h = (*entryHeader)(unsafe.Add(unsafe.Pointer(h), -int(entryHeaderSize)))
	h.vlen = 1 << 30
	if _, _, err := m.Get(k, Hash(k), nil); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Get of an overrun entry: %v, want ErrCorrupt", err)
	}
	// A slot pointing outside the arena, and one into the middle of a block.
	for _, bad := range []uint64{uint64(a.Size()) + 4096, s[slot] + 8} {
		s[slot] = bad
		if _, _, err := m.Get(k, Hash(k), nil); !errors.Is(err, arena.ErrCorrupt) {
			t.Fatalf("Get through slot %d: %v, want ErrCorrupt", bad, err)
		}
		if err := m.Each(func(k, v []byte) error { return nil }); !errors.Is(err, arena.ErrCorrupt) {
			t.Fatalf("Each through slot %d: %v, want ErrCorrupt", bad, err)
		}
	}
	// A slot block offset that is garbage.
	m.h.slots = 12345
	if err := m.Set(k, Hash(k), nil); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Set with a garbage slot block: %v, want ErrCorrupt", err)
	}
}

func TestMapConcurrentIncrements(t *testing.T) {
	a := newArena(t, 1<<26)
	m := AttachMap(a, header(t, a))
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var buf []byte
			for i := range each {
				k := key((g + i) % 7)
				h := Hash(k)
				if err := m.Lock(); err != nil {
					t.Error(err)
					return
				}
				v, _, err := m.Get(k, h, buf[:0])
				if err == nil {
					n := uint64(0)
					if len(v) == 8 {
						n = binary.LittleEndian.Uint64(v)
					}
					err = m.Set(k, h, binary.LittleEndian.AppendUint64(nil, n+1))
				}
				m.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				buf = v
			}
		})
	}
	wg.Wait()
	var total uint64
	mustLock(t, m.Lock)
	defer m.Unlock()
	m.Each(func(k, v []byte) error { total += binary.LittleEndian.Uint64(v); return nil })
	if total != goroutines*each {
		t.Fatalf("total %d, want %d", total, goroutines*each)
	}
}

func TestListMatchesSlice(t *testing.T) {
	a := newArena(t, 1<<26)
	l := AttachList(a, header(t, a))
	mustLock(t, l.Lock)
	defer l.Unlock()
	var model []string
	r := rand.New(rand.NewPCG(3, 4))
	for step := range 100000 {
		switch op := r.IntN(10); {
		case op < 4 || (op < 7 && step > 50000):
			v := fmt.Sprint(step)
			if err := l.Append([]byte(v)); err != nil {
				t.Fatal(err)
			}
			model = append(model, v)
		case op < 7:
			v, ok, err := l.Pop(nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (len(model) > 0) || ok && string(v) != model[len(model)-1] {
				t.Fatalf("Pop = %q, %v; model has %d", v, ok, len(model))
			}
			if ok {
				model = model[:len(model)-1]
			}
		case op < 8:
			i := r.IntN(len(model) + 2)
			err := l.Set(i, []byte("set"))
			if i < len(model) {
				if err != nil {
					t.Fatal(err)
				}
				model[i] = "set"
			} else if !errors.Is(err, ErrRange) {
				t.Fatalf("Set(%d) of %d: %v, want ErrRange", i, len(model), err)
			}
		default:
			i := r.IntN(len(model)+2) - 1
			v, err := l.Get(i, nil)
			if i >= 0 && i < len(model) {
				if err != nil || string(v) != model[i] {
					t.Fatalf("Get(%d) = %q, %v; want %q", i, v, err, model[i])
				}
			} else if !errors.Is(err, ErrRange) {
				t.Fatalf("Get(%d) of %d: %v, want ErrRange", i, len(model), err)
			}
		}
		if l.Len() != len(model) {
			t.Fatalf("Len = %d, want %d", l.Len(), len(model))
		}
	}
	i := 0
	err := l.Each(func(j int, v []byte) error {
		if j != i || string(v) != model[j] {
			return fmt.Errorf("Each(%d) = %q, want %q", j, v, model[j])
		}
		i++
		return nil
	})
	if err != nil || i != len(model) {
		t.Fatalf("Each: %v after %d of %d", err, i, len(model))
	}
}

func TestListChurnReusesMemory(t *testing.T) {
	a := newArena(t, 1<<26)
	l := AttachList(a, header(t, a))
	mustLock(t, l.Lock)
	defer l.Unlock()
	var high uint64
	for round := range 20 {
		for i := range 10000 {
			if err := l.Append(key(i)); err != nil {
				t.Fatal(err)
			}
		}
		for l.Len() > 0 {
			if _, _, err := l.Pop(nil); err != nil {
				t.Fatal(err)
			}
		}
		if round == 0 {
			high = a.InUse()
		}
	}
	if got := a.InUse(); got != high {
		t.Fatalf("arena use grew from %d to %d bytes", high, got)
	}
}

func TestListCorruptIsAnError(t *testing.T) {
	a := newArena(t, 1<<26)
	l := AttachList(a, header(t, a))
	mustLock(t, l.Lock)
	for i := range 3 {
		if err := l.Append(key(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Unlock()
	// A holder died, leaving a length past the array.
	if !l.h.mu.TryLock(deadOwner) {
		t.Fatal("lock is held")
	}
	l.h.n = 1 << 40
	if err := l.Lock(); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Lock after a dead holder left a bad length: %v, want ErrCorrupt", err)
	}
	mustLock(t, l.Lock) // the failed repair released the lock
	defer l.Unlock()
	if _, err := l.Get(0, nil); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Get: %v, want ErrCorrupt", err)
	}
	l.h.n = 3
	w, _, _ := l.elems()
	w[1] = 99
	if _, err := l.Get(1, nil); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Get of a bad entry offset: %v, want ErrCorrupt", err)
	}
	if _, _, err := l.Pop(nil); err != nil {
		t.Fatalf("Pop of the good last element: %v", err)
	}
	if _, _, err := l.Pop(nil); !errors.Is(err, arena.ErrCorrupt) {
		t.Fatalf("Pop of a bad entry offset: %v, want ErrCorrupt", err)
	}
}
