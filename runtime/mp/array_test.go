package mp_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

func TestArrayElements(t *testing.T) {
	checkArray(t, []int8{-1, 2, -3, 4})
	checkArray(t, []uint16{1, 65535})
	checkArray(t, []float64{1.5, -2, 3})
	checkArray(t, []bool{true, false, true})
	checkArray(t, []point{{1, 2}, {3, 4}})
	checkArray(t, []wide{{[8]int64{1}}, {[8]int64{7: 2}}})
}

func checkArray[T comparable](t *testing.T, want []T) {
	t.Helper()
	a, err := mp.NewArray[T](len(want))
	if err != nil {
		t.Fatalf("NewArray[%T]: %v", want[0], err)
	}
	if a.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", a.Len(), len(want))
	}
	var zero T
	if got := a.Get(0); got != zero {
		t.Fatalf("new array element = %v, want zero", got)
	}
	for i, x := range want {
		a.Set(i, x)
	}
	got := make([]T, len(want)+2)
	if n := a.CopyTo(got); n != len(want) || !slices.Equal(got[:n], want) {
		t.Fatalf("CopyTo = %d %v, want %v", n, got[:n], want)
	}
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if n := a.CopyFrom(rev[:1]); n != 1 || a.Get(0) != rev[0] {
		t.Fatalf("CopyFrom of one element = %d, element 0 = %v", n, a.Get(0))
	}
	if got := a.Update(len(want)-1, func(T) T { return want[0] }); got != want[0] || a.Get(len(want)-1) != want[0] {
		t.Fatalf("Update = %v, element %v; want %v", got, a.Get(len(want)-1), want[0])
	}
}

func TestArrayIndexPanicsLikeASlice(t *testing.T) {
	a, _ := mp.NewArray[int64](3)
	for _, i := range []int{3, -1, 1 << 40} {
		func() {
			defer func() {
				r := recover()
				// The same runtime.Error a slice of length 3 gives.
				err, ok := r.(runtime.Error)
				want := fmt.Sprint(func() (msg any) {
					defer func() { msg = recover() }()
					s := make([]int64, 3)
					return s[i]
				}())
				if !ok || !strings.Contains(err.Error(), want) {
					t.Errorf("Get(%d) panicked with %v, want %q", i, r, want)
				}
			}()
			a.Get(i)
		}()
	}
}

func TestIntArrayAtomics(t *testing.T) {
	a, err := mp.NewIntArray[uint32](4)
	if err != nil {
		t.Fatal(err)
	}
	const g, n = 4, 5000
	hammer(g, n, func(i int) {
		a.Add(i%4, 1)
		a.Update((i+1)%4, func(x uint32) uint32 { return x + 2 })
	})
	for i := range 4 {
		if got, want := a.Get(i), uint32(g*n/4*3); got != want {
			t.Errorf("element %d = %d, want %d", i, got, want)
		}
	}
	if a.CompareAndSwap(0, 1, 2) {
		t.Error("CompareAndSwap with a wrong old value succeeded")
	}
	if old := a.Swap(1, 9); old != g*n/4*3 || a.Get(1) != 9 {
		t.Errorf("Swap = %d, element %d", old, a.Get(1))
	}
	if _, err := mp.NewIntArray[int64](-1); err == nil {
		t.Error("NewIntArray(-1) succeeded")
	}
}
