package mp_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

type point struct{ X, Y float64 }

// wide is 64 bytes: no single atomic instruction can copy it.
type wide struct{ A [8]int64 }

type withString struct {
	ID   int
	Name string
}

func TestValueRoundTrips(t *testing.T) {
	checkValue(t, int8(-5), int8(7))
	checkValue(t, uint16(65535), uint16(1))
	checkValue(t, int32(-1), int32(1<<30))
	checkValue(t, int64(math.MinInt64), int64(42))
	checkValue(t, 3.5, math.Inf(-1))
	checkValue(t, true, false)
	checkValue(t, [3]byte{1, 2, 3}, [3]byte{9, 8, 7})
	checkValue(t, point{1, 2}, point{-3, 4.5})
	checkValue(t, wide{[8]int64{1, 2, 3, 4, 5, 6, 7, 8}}, wide{[8]int64{7: 9}})
}

func checkValue[T comparable](t *testing.T, init, next T) {
	t.Helper()
	v, err := mp.NewValue(init)
	if err != nil {
		t.Fatalf("NewValue(%v): %v", init, err)
	}
	if got := v.Load(); got != init {
		t.Fatalf("Load = %v, want %v", got, init)
	}
	v.Store(next)
	if got := v.Load(); got != next {
		t.Fatalf("Load after Store = %v, want %v", got, next)
	}
	if got := v.Update(func(T) T { return init }); got != init || v.Load() != init {
		t.Fatalf("Update returned %v, Load %v; want %v", got, v.Load(), init)
	}
}

func TestValueRefusesPointers(t *testing.T) {
	_, err := mp.NewValue(withString{})
	if !errors.Is(err, mp.ErrPointers) {
		t.Fatalf("NewValue(struct with string) = %v, want ErrPointers", err)
	}
	for _, want := range []string{"withString", ".Name", "string", "Queue"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := mp.NewValue(&point{}); !errors.Is(err, mp.ErrPointers) {
		t.Errorf("NewValue(*point) = %v, want ErrPointers", err)
	}
	if _, err := mp.NewArray[[]int](3); !errors.Is(err, mp.ErrPointers) {
		t.Errorf("NewArray[[]int] = %v, want ErrPointers", err)
	}
}

func TestIntAtomics(t *testing.T) {
	v, err := mp.NewInt[int32](10)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Add(-15); got != -5 {
		t.Fatalf("Add(-15) = %d, want -5", got)
	}
	if v.CompareAndSwap(0, 1) {
		t.Fatal("CompareAndSwap(0, 1) succeeded on -5")
	}
	if !v.CompareAndSwap(-5, 6) || v.Load() != 6 {
		t.Fatalf("CompareAndSwap(-5, 6) failed; value %d", v.Load())
	}
	if old := v.Swap(12); old != 6 || v.Load() != 12 {
		t.Fatalf("Swap(12) = %d, value %d", old, v.Load())
	}
	if old := v.And(4); old != 12 || v.Load() != 4 {
		t.Fatalf("And(4) = %d, value %d", old, v.Load())
	}
	if old := v.Or(3); old != 4 || v.Load() != 7 {
		t.Fatalf("Or(3) = %d, value %d", old, v.Load())
	}

	u, _ := mp.NewInt[uint64](math.MaxUint64)
	if got := u.Add(2); got != 1 {
		t.Fatalf("uint64 wrap: Add(2) = %d, want 1", got)
	}
	n, _ := mp.NewInt(-1 << 40)
	if got := n.Add(1 << 40); got != 0 {
		t.Fatalf("int Add = %d, want 0", got)
	}
}

// Update must be atomic with respect to Add from other goroutines, and
// serialized with sequences under the value's own lock.
func TestIntUpdateIsAtomic(t *testing.T) {
	const g, n = 4, 5000
	run := func(t *testing.T, ops ...func(v *mp.Int[int64])) {
		v, _ := mp.NewInt[int64](0)
		// Each goroutine interleaves the ops, so different ops race.
		hammer(g, n, func(int) {
			for _, op := range ops {
				op(v)
			}
		})
		if got, want := v.Load(), int64(g*n*len(ops)); got != want {
			t.Fatalf("value %d, want %d", got, want)
		}
	}
	update := func(v *mp.Int[int64]) { v.Update(func(x int64) int64 { return x + 1 }) }
	t.Run("with Add", func(t *testing.T) {
		run(t, update, func(v *mp.Int[int64]) { v.Add(1) })
	})
	t.Run("with locked sequences", func(t *testing.T) {
		run(t, update, func(v *mp.Int[int64]) {
			v.Lock()
			v.Store(v.Load() + 1)
			v.Unlock()
		})
	})
}

// hammer runs op(i) for i in [0, n) in each of g goroutines and waits.
func hammer(g, n int, op func(i int)) {
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				op(i)
			}
		}()
	}
	wg.Wait()
}

func TestWideValueUpdatesAreNotLost(t *testing.T) {
	v, _ := mp.NewValue(wide{})
	const g, n = 4, 2000
	hammer(g, n, func(int) {
		v.Update(func(w wide) wide {
			for i := range w.A {
				w.A[i]++
			}
			return w
		})
	})
	for i, x := range v.Load().A {
		if x != g*n {
			t.Fatalf("field %d = %d, want %d", i, x, g*n)
		}
	}
}

func TestValueLockGuardsSequences(t *testing.T) {
	v, _ := mp.NewValue(point{})
	const g, n = 4, 2000
	hammer(g, n, func(int) {
		v.Lock()
		p := v.Load()
		p.X++
		v.Store(p) // Store of a wide value must not deadlock under Lock
		v.Unlock()
	})
	if got := v.Load().X; got != g*n {
		t.Fatalf("X = %v, want %d", got, g*n)
	}
}

func TestHandlesTravelByGob(t *testing.T) {
	type args struct {
		Counter *mp.Int[int64]
		Grid    *mp.Array[point]
		Mu      *mp.Lock
		N       int
	}
	c, _ := mp.NewInt[int64](5)
	grid, _ := mp.NewArray[point](3)
	mu, _ := mp.NewLock()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(args{c, grid, mu, 7}); err != nil {
		t.Fatal(err)
	}
	var got args
	if err := gob.NewDecoder(&buf).Decode(&got); err != nil {
		t.Fatal(err)
	}
	got.Counter.Add(1)
	got.Grid.Set(2, point{1, 1})
	if c.Load() != 6 || grid.Get(2) != (point{1, 1}) || got.N != 7 {
		t.Fatalf("decoded handles do not share the objects: %d %v %d", c.Load(), grid.Get(2), got.N)
	}
	if !got.Mu.TryLock() || mu.TryLock() {
		t.Fatal("decoded lock is not the same lock")
	}
}

func TestGobDecodeRejectsBadHandles(t *testing.T) {
	c, _ := mp.NewInt[int64](0)
	b, _ := c.GobEncode()
	var f mp.Value[float32]
	if err := f.GobDecode(b); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("decode Int[int64] as Value[float32]: %v, want ErrTypeMismatch", err)
	}
	var a mp.Array[int64]
	if err := a.GobDecode(b); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("decode Int as Array: %v, want ErrTypeMismatch", err)
	}
	var l mp.Lock
	if err := l.GobDecode([]byte("garbage")); !errors.Is(err, mp.ErrCorrupt) {
		t.Errorf("decode garbage: %v, want ErrCorrupt", err)
	}
	var zero mp.Value[int]
	if _, err := zero.GobEncode(); err == nil {
		t.Error("GobEncode of a zero Value succeeded")
	}
}

func TestZeroHandlePanicsClearly(t *testing.T) {
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "not made by NewValue") {
			t.Fatalf("panic %v, want a message naming NewValue", r)
		}
	}()
	var v mp.Value[wide]
	v.Load()
}

// A Value of 256 MiB is made, loaded, stored and updated without
// overflowing the stack (in a program whose arena is large enough for its
// double buffer: 2 GiB).
func TestValueOf256MiB(t *testing.T) {
	bin := buildChild(t)
	cmd := exec.Command(bin, "big-value")
	cmd.Env = append(os.Environ(), "MPRACE_ARENA_SIZE=2147483648")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("big-value: %v\n%s", err, out)
	}
}
