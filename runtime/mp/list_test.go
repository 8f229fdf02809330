package mp_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

func TestListOperations(t *testing.T) {
	l, err := mp.NewList[string]()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.Pop(); ok || err != nil {
		t.Fatalf("Pop of an empty List = %v, %v", ok, err)
	}
	var model []string
	for i := range 1000 {
		s := strconv.Itoa(i)
		if err := l.Append(s); err != nil {
			t.Fatal(err)
		}
		model = append(model, s)
	}
	if err := l.Set(10, "ten"); err != nil {
		t.Fatal(err)
	}
	model[10] = "ten"
	if v, err := l.Update(10, func(s string) string { return s + "!" }); err != nil || v != "ten!" {
		t.Fatalf("Update = %q, %v", v, err)
	}
	model[10] = "ten!"
	for i := range 600 {
		v, ok, err := l.Pop()
		if err != nil || !ok || v != model[len(model)-1] {
			t.Fatalf("Pop %d = %q, %v, %v; want %q", i, v, ok, err, model[len(model)-1])
		}
		model = model[:len(model)-1]
	}
	items, err := l.Items()
	if err != nil || !slices.Equal(items, model) || l.Len() != len(model) {
		t.Fatalf("Items: %d items, %v; Len %d; want %d", len(items), err, l.Len(), len(model))
	}
	if v, err := l.Get(10); err != nil || v != "ten!" {
		t.Fatalf("Get(10) = %q, %v", v, err)
	}
	for _, i := range []int{-1, len(model), 1 << 40} {
		if _, err := l.Get(i); !errors.Is(err, mp.ErrOutOfRange) {
			t.Errorf("Get(%d): %v, want ErrOutOfRange", i, err)
		}
		if err := l.Set(i, "x"); !errors.Is(err, mp.ErrOutOfRange) {
			t.Errorf("Set(%d): %v, want ErrOutOfRange", i, err)
		}
		if _, err := l.Update(i, func(s string) string { return s }); !errors.Is(err, mp.ErrOutOfRange) {
			t.Errorf("Update(%d): %v, want ErrOutOfRange", i, err)
		}
	}
}

func TestListFromGoroutines(t *testing.T) {
	l, err := mp.NewList[int64]()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(0); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if _, err := l.Update(0, func(v int64) int64 { return v + 1 }); err != nil {
					t.Error(err)
					return
				}
				if err := l.Append(int64(g*each + i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	items, err := l.Items()
	if err != nil {
		t.Fatal(err)
	}
	if items[0] != goroutines*each || len(items) != 1+goroutines*each {
		t.Fatalf("counter %d, %d items; want %d and %d", items[0], len(items), goroutines*each, 1+goroutines*each)
	}
	rest := slices.Sorted(slices.Values(items[1:]))
	for i, v := range rest {
		if v != int64(i) {
			t.Fatalf("appended values: %d at %d", v, i)
		}
	}
}

// Memory freed by Pop is reused: 10 million appends and pops run in a
// Manager of 8 MiB.
func TestListChurnStaysInBoundedMemory(t *testing.T) {
	_, m := newManager(t, mp.WithManagerSize(8<<20))
	l, err := mp.ManagedList[[16]byte](m, "churn")
	if err != nil {
		t.Fatal(err)
	}
	rounds := 1000
	if testing.Short() {
		rounds = 100
	}
	for r := range rounds {
		for i := range 10000 {
			if err := l.Append([16]byte{byte(i)}); err != nil {
				t.Fatalf("round %d: Append: %v", r, err)
			}
		}
		for range 10000 {
			if _, ok, err := l.Pop(); err != nil || !ok {
				t.Fatalf("round %d: Pop: %v, %v", r, ok, err)
			}
		}
	}
	if l.Len() != 0 {
		t.Fatalf("Len = %d", l.Len())
	}
}

type listAppender struct {
	L *mp.List[int]
	N int
}

var listWorker = mp.NewFunc("mp_test.listWorker", func(ctx context.Context, a listAppender) error {
	for i := range a.N {
		if err := a.L.Append(i); err != nil {
			return err
		}
		if _, err := a.L.Update(0, func(v int) int { return v + 1 }); err != nil {
			return err
		}
	}
	return nil
})

func TestListAcrossProcesses(t *testing.T) {
	l, err := mp.NewList[int]()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(0); err != nil {
		t.Fatal(err)
	}
	const procs, each = 4, 3000
	runWorkers(t, listWorker, procs, listAppender{L: l, N: each})
	// Element 0 counts Updates; each worker's Appends of 0..N-1 are all there.
	items, err := l.Items()
	if err != nil {
		t.Fatal(err)
	}
	if items[0] != procs*each || len(items) != 1+procs*each {
		t.Fatalf("counter %d, %d items; want %d and %d", items[0], len(items), procs*each, 1+procs*each)
	}
	counts := make([]int, each)
	for _, v := range items[1:] {
		if v < 0 || v >= each {
			t.Fatalf("appended value %d was never appended", v)
		}
		counts[v]++
	}
	for v, c := range counts {
		if c != procs {
			t.Fatalf("value %d appended %d times, want %d", v, c, procs)
		}
	}
}
