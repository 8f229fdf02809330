package mp_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type jobRecord struct {
	ID     int
	Status string
	Tags   []string
}

func TestDictMatchesGoMap(t *testing.T) {
	d, err := mp.NewDict[string, jobRecord]()
	if err != nil {
		t.Fatal(err)
	}
	model := map[string]jobRecord{}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		k := "jobRecord-" + strconv.Itoa(r.IntN(500))
		switch r.IntN(3) {
		case 0:
			j := jobRecord{ID: i, Status: "queued", Tags: []string{"t" + strconv.Itoa(i%3)}}
			if err := d.Set(k, j); err != nil {
				t.Fatal(err)
			}
			model[k] = j
		case 1:
			ok, err := d.Delete(k)
			if _, want := model[k]; err != nil || ok != want {
				t.Fatalf("Delete(%s) = %v, %v; want %v", k, ok, err, want)
			}
			delete(model, k)
		case 2:
			j, ok, err := d.Get(k)
			if want, wok := model[k]; err != nil || ok != wok || !reflect.DeepEqual(j, want) {
				t.Fatalf("Get(%s) = %+v, %v, %v; want %+v, %v", k, j, ok, err, want, wok)
			}
		}
		if d.Len() != len(model) {
			t.Fatalf("Len = %d, want %d", d.Len(), len(model))
		}
	}
	items, err := d.Items()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(items, model) {
		t.Fatalf("Items differs from the model: %d and %d keys", len(items), len(model))
	}
	// A snapshot does not change with the Dict.
	for k := range model {
		if _, err := d.Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	if d.Len() != 0 || len(items) != len(model) {
		t.Fatalf("after deleting all: Len %d, snapshot %d keys", d.Len(), len(items))
	}
}

func TestDictRawKeysAndValues(t *testing.T) {
	d, err := mp.NewDict[point, wide]()
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(100) {
		if err := d.Set(point{float64(i), -1}, wide{[8]int64{i, 7: -i}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range int64(100) {
		w, ok, err := d.Get(point{float64(i), -1})
		if err != nil || !ok || w != (wide{[8]int64{i, 7: -i}}) {
			t.Fatalf("Get(%d) = %v, %v, %v", i, w, ok, err)
		}
	}
	if _, ok, err := d.Get(point{1, 1}); ok || err != nil {
		t.Fatalf("Get of an absent key = %v, %v", ok, err)
	}
	// A set: values of size zero.
	set, err := mp.NewDict[int32, struct{}]()
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Set(5, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := set.Get(5); !ok || err != nil {
		t.Fatalf("Get(5) of a set = %v, %v", ok, err)
	}
	if _, ok, err := set.Get(6); ok || err != nil {
		t.Fatalf("Get(6) of a set = %v, %v", ok, err)
	}
}

func TestDictUpdateFromGoroutines(t *testing.T) {
	d, err := mp.NewDict[string, int]()
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				var err error
				if i%2 == 0 {
					_, err = d.Update("n", func(v int) int { return v + 1 })
				} else {
					// A transaction under the Dict's own lock is atomic
					// with Update too.
					d.Lock()
					var v int
					if v, _, err = d.Get("n"); err == nil {
						err = d.Set("n", v+1)
					}
					d.Unlock()
				}
				if err == nil {
					_, err = d.Update(strconv.Itoa(g), func(v int) int { return v + 1 })
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	items, err := d.Items()
	if err != nil {
		t.Fatal(err)
	}
	if items["n"] != goroutines*each {
		t.Fatalf(`d["n"] = %d, want %d`, items["n"], goroutines*each)
	}
	for g := range goroutines {
		if items[strconv.Itoa(g)] != each {
			t.Fatalf("d[%d] = %d, want %d", g, items[strconv.Itoa(g)], each)
		}
	}
}

// Memory freed by Delete is reused: 10 million set/delete cycles run in a
// Manager of 8 MiB, which could hold only about 100 thousand entries at once.
func TestDictChurnStaysInBoundedMemory(t *testing.T) {
	_, m := newManager(t, mp.WithManagerSize(8<<20))
	d, err := mp.ManagedDict[int64, int64](m, "churn")
	if err != nil {
		t.Fatal(err)
	}
	cycles := int64(10_000_000)
	if testing.Short() {
		cycles = 1_000_000
	}
	const live = 1000
	for i := range cycles {
		if err := d.Set(i, i); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if i >= live {
			if ok, err := d.Delete(i - live); err != nil || !ok {
				t.Fatalf("cycle %d: Delete = %v, %v", i, ok, err)
			}
		}
	}
	if d.Len() != live {
		t.Fatalf("Len = %d, want %d", d.Len(), live)
	}
	// And the space is still there for a burst.
	for i := range int64(50000) {
		if err := d.Set(-1-i, i); err != nil {
			t.Fatalf("burst %d: %v", i, err)
		}
	}
}

func TestDictHandleTravels(t *testing.T) {
	d, err := mp.NewDict[string, string]()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(struct{ D *mp.Dict[string, string] }{d}); err != nil {
		t.Fatal(err)
	}
	enc := buf.Bytes()
	var got struct{ D *mp.Dict[string, string] }
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := got.D.Get("k"); err != nil || !ok || v != "v" {
		t.Fatalf("decoded Dict: Get = %q, %v, %v", v, ok, err)
	}
	var wrong struct{ D *mp.Dict[string, int] }
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&wrong); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Fatalf("decode as Dict[string, int]: %v, want ErrTypeMismatch", err)
	}
	var list struct{ D *mp.List[string] }
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&list); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Fatalf("decode as List: %v, want ErrTypeMismatch", err)
	}
}

func TestDictUnencodableValue(t *testing.T) {
	d, err := mp.NewDict[string, func()]()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set("f", func() {}); err == nil {
		t.Fatal("Set of a func value succeeded")
	}
	if d.Len() != 0 {
		t.Fatalf("Len = %d after a failed Set", d.Len())
	}
}

func TestDictZeroHandlePanicsClearly(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !bytes.Contains([]byte(fmt.Sprint(r)), []byte("not made by NewDict")) {
			t.Fatalf("recovered %v", r)
		}
	}()
	var d mp.Dict[string, int]
	d.Len()
}

type dictCounter struct {
	D    *mp.Dict[string, int64]
	N    int
	Keys int
}

var dictIncrementer = mp.NewFunc("mp_test.dictIncrementer", func(ctx context.Context, a dictCounter) error {
	for i := range a.N {
		if _, err := a.D.Update("k"+strconv.Itoa(i%a.Keys), func(v int64) int64 { return v + 1 }); err != nil {
			return err
		}
	}
	return nil
})

// runWorkers runs n workers of f with arg and waits for them all.
func runWorkers[A any](t *testing.T, f *mp.Func[A], n int, arg A) {
	t.Helper()
	var ps []*mp.Process
	for range n {
		p, err := f.Start(context.Background(), arg)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			t.Fatal(err)
		}
	}
}

// N worker processes × M increments through Update is N×M exactly.
func TestDictUpdateAcrossProcesses(t *testing.T) {
	d, err := mp.NewDict[string, int64]()
	if err != nil {
		t.Fatal(err)
	}
	const procs, each, keys = 4, 5000, 3
	runWorkers(t, dictIncrementer, procs, dictCounter{D: d, N: each, Keys: keys})
	items, err := d.Items()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, v := range items {
		total += v
	}
	if total != procs*each || len(items) != keys {
		t.Fatalf("%d keys totalling %d, want %d totalling %d", len(items), total, keys, procs*each)
	}
}

type dictChurner struct {
	D     *mp.Dict[int, string]
	L     *mp.List[int]
	ID    int
	Ready *mp.Int[int32] // each churner adds 1 once it runs
}

var dictChurn = mp.NewFunc("mp_test.dictChurn", func(ctx context.Context, a dictChurner) error {
	r := rand.New(rand.NewPCG(uint64(a.ID), 9))
	a.Ready.Add(1)
	for ctx.Err() == nil {
		k := r.IntN(200)
		var err error
		switch r.IntN(5) {
		case 0, 1:
			err = a.D.Set(k, strconv.Itoa(k)+"-"+strconv.Itoa(r.IntN(1000)))
		case 2:
			_, err = a.D.Delete(k)
		case 3:
			err = a.L.Append(k)
		case 4:
			_, _, err = a.L.Pop()
		}
		if err != nil {
			return err
		}
	}
	return nil
})

// Workers killed with SIGKILL at random moments, some in the middle of an
// operation with the container's lock held, leave a Dict and a List that
// the survivors use without error and whose counts are right.
func TestContainersSurviveKilledWriters(t *testing.T) {
	d, err := mp.NewDict[int, string]()
	if err != nil {
		t.Fatal(err)
	}
	l, err := mp.NewList[int]()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(10, 11))
	for round := range 8 {
		var ps []*mp.Process
		ready, err := mp.NewInt[int32](0)
		if err != nil {
			t.Fatal(err)
		}
		for id := range 3 {
			p, err := dictChurn.Start(context.Background(), dictChurner{D: d, L: l, ID: round*3 + id, Ready: ready})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		// Killed while they churn, not while they start.
		awaitReady(t, ready, len(ps))
		time.Sleep(time.Duration(20+r.IntN(80)) * time.Millisecond)
		for _, p := range ps {
			p.Kill()
			time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
		}
		for _, p := range ps {
			var exit *mp.ExitError
			if err := p.Join(); err != nil && !errors.As(err, &exit) {
				t.Fatalf("round %d: worker failed before it was killed: %v", round, err)
			}
		}
		items, err := d.Items()
		if err != nil {
			t.Fatalf("round %d: Items: %v", round, err)
		}
		if len(items) != d.Len() {
			t.Fatalf("round %d: Len %d, Items has %d", round, d.Len(), len(items))
		}
		for k, v := range items {
			if k == -1 && v == strings.Repeat("x", round) {
				continue // this process's own Update, once a round
			}
			if !strings.HasPrefix(v, strconv.Itoa(k)+"-") {
				t.Fatalf("round %d: d[%d] = %q", round, k, v)
			}
		}
		elems, err := l.Items()
		if err != nil || len(elems) != l.Len() {
			t.Fatalf("round %d: List Items: %d, %v; Len %d", round, len(elems), err, l.Len())
		}
		if _, err := d.Update(-1, func(v string) string { return v + "x" }); err != nil {
			t.Fatalf("round %d: Update: %v", round, err)
		}
	}
}
