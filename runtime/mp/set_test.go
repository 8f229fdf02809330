package mp_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

type setArgs struct {
	S     *mp.Set[string]
	Wins  *mp.Int[int64]
	Names []string
}

// setRacer adds every name with AddIfAbsent and counts the adds it won.
var setRacer = mp.NewFunc("mp_test.setRacer", func(ctx context.Context, a setArgs) error {
	for _, n := range a.Names {
		added, err := a.S.AddIfAbsent(n)
		if err != nil {
			return err
		}
		if added {
			a.Wins.Add(1)
		}
	}
	return nil
})

func TestSetOperations(t *testing.T) {
	s, err := mp.NewSet[string]()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "a"} {
		if err := s.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if ok, err := s.Has("a"); !ok || err != nil {
		t.Fatalf("Has(a) = %v, %v", ok, err)
	}
	if ok, _ := s.Has("z"); ok {
		t.Fatal("Has(z) = true")
	}
	if added, _ := s.AddIfAbsent("b"); added {
		t.Fatal("AddIfAbsent of a member added it")
	}
	if added, _ := s.AddIfAbsent("c"); !added {
		t.Fatal("AddIfAbsent of a new key did not add it")
	}
	if ok, _ := s.Remove("a"); !ok {
		t.Fatal("Remove(a) = false")
	}
	if ok, _ := s.Remove("a"); ok {
		t.Fatal("Remove of a removed key = true")
	}
	var all []string
	for k, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, k)
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"b", "c"}) {
		t.Fatalf("members %v, want [b c]", all)
	}
}

// TestSetAddIfAbsentAcrossProcesses races 4 processes adding the same 500
// names: each name is added exactly once.
func TestSetAddIfAbsentAcrossProcesses(t *testing.T) {
	s, _ := mp.NewSet[string]()
	wins, _ := mp.NewInt[int64](0)
	var names []string
	for i := range 500 {
		names = append(names, "name-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	var ps []*mp.Process
	for range 4 {
		p, err := setRacer.Start(context.Background(), setArgs{S: s, Wins: wins, Names: names})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	joinAll(t, ps)
	if got := wins.Load(); got != 500 {
		t.Fatalf("%d adds won for 500 names", got)
	}
	if s.Len() != 500 {
		t.Fatalf("Len = %d, want 500", s.Len())
	}
}

func TestManagedSet(t *testing.T) {
	name := "mp-test-set"
	mp.UnlinkManager(name)
	m, err := mp.NewManager(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); mp.UnlinkManager(name) })
	s, err := mp.ManagedSet[int64](m, "seen")
	if err != nil {
		t.Fatal(err)
	}
	s.Add(7)
	again, err := mp.ManagedSet[int64](m, "seen")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := again.Has(7); !ok {
		t.Fatal("the Set found by name does not hold what was added")
	}
	if _, err := mp.ManagedDict[int64, struct{}](m, "seen"); err == nil {
		t.Fatal("a Set was opened as a Dict")
	}
}
