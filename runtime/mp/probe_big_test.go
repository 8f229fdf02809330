package mp_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type big256 = [256 << 20]byte

// bigManaged opens the Manager by name and makes, stores and loads a
// 256 MiB ManagedValue, passing it by value as users do; each step is a
// function of its own, as in testdata/mpchild's bigValue, so that no frame
// holds more than two copies. ManagedValue used to pass init on by value
// once more and die of "fatal error: stack overflow".
var bigManaged = mp.NewFunc("mp_test.bigManaged", func(ctx context.Context, name string) error {
	m, err := mp.OpenManager(name)
	if err != nil {
		return err
	}
	defer m.Close()
	x := new(big256)
	x[5], x[len(x)-1] = 7, 9
	v, err := newBigManaged(m, x)
	if err != nil {
		return err
	}
	if err := checkBig256(v, 5, 7); err != nil {
		return err
	}
	x[6] = 8
	storeBig256(v, x)
	return checkBig256(v, 6, 8)
})

//go:noinline
func newBigManaged(m *mp.Manager, x *big256) (*mp.Value[big256], error) {
	y := *x
	return mp.ManagedValue(m, "big", y)
}

//go:noinline
func storeBig256(v *mp.Value[big256], x *big256) {
	y := *x
	v.Store(y)
}

//go:noinline
func checkBig256(v *mp.Value[big256], i int, want byte) error {
	if got := v.Load(); got[i] != want || got[len(got)-1] != 9 {
		return fmt.Errorf("byte %d is %d, want %d (last %d, want 9)", i, got[i], want, got[len(got)-1])
	}
	return nil
}

// runOnManager makes a Manager of 2 GiB and runs f on its name in a worker,
// which must succeed.
func runOnManager(t *testing.T, f *mp.Func[string]) *mp.Manager {
	t.Helper()
	name, m := newManager(t, mp.WithManagerSize(2<<30))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := f.Start(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProbeManagedValueOf256MiB(t *testing.T) {
	m := runOnManager(t, bigManaged)
	if names, err := m.Names(); err != nil || !slices.Contains(names, "big") {
		t.Fatalf("the Manager holds %q (%v), want the Value \"big\"", names, err)
	}
}

// bigQueue puts a 256 MiB raw item through a Queue of a Manager and gets it
// back. Queue.Put passed the item on by value twice more (and Get returned
// it through two more frames): "fatal error: stack overflow".
var bigQueue = mp.NewFunc("mp_test.bigQueue", func(ctx context.Context, name string) error {
	m, err := mp.OpenManager(name)
	if err != nil {
		return err
	}
	defer m.Close()
	q, err := mp.ManagedQueue[big256](m, "q", mp.WithByteCapacity(300<<20))
	if err != nil {
		return err
	}
	x := new(big256)
	x[5], x[len(x)-1] = 7, 9
	if err := putBig256(q, x); err != nil {
		return err
	}
	if n := q.Len(); n != 1 {
		return fmt.Errorf("the queue holds %d items after the Put, want 1", n)
	}
	return getBig256(q)
})

//go:noinline
func putBig256(q *mp.Queue[big256], x *big256) error {
	y := *x
	return q.Put(y)
}

//go:noinline
func getBig256(q *mp.Queue[big256]) error {
	y, err := q.Get()
	if err != nil {
		return err
	}
	if y[5] != 7 || y[len(y)-1] != 9 {
		return fmt.Errorf("the item came back as %d...%d, want 7...9", y[5], y[len(y)-1])
	}
	return nil
}

func TestProbeQueueItemOf256MiB(t *testing.T) { runOnManager(t, bigQueue) }

// bigContainers stores a 256 MiB raw value in a Dict and a List of a
// Manager and reads it back, as users write it. Dict.Set and List.Append
// died of stack overflow: the general codec's copies of the value, in
// branches a raw value never takes, sized their frames; Get's result went
// through a temporary as large.
var bigContainers = mp.NewFunc("mp_test.bigContainers", func(ctx context.Context, name string) error {
	m, err := mp.OpenManager(name)
	if err != nil {
		return err
	}
	defer m.Close()
	d, err := mp.ManagedDict[string, big256](m, "d")
	if err != nil {
		return err
	}
	l, err := mp.ManagedList[big256](m, "l")
	if err != nil {
		return err
	}
	x := new(big256)
	x[5], x[len(x)-1] = 7, 9
	if err := setBig256(d, l, x); err != nil {
		return err
	}
	if d.Len() != 1 || l.Len() != 1 {
		return fmt.Errorf("the Dict holds %d values and the List %d, want 1 each", d.Len(), l.Len())
	}
	return getBig256From(d, l)
})

func setBig256(d *mp.Dict[string, big256], l *mp.List[big256], x *big256) error {
	if err := setDictBig256(d, x); err != nil {
		return err
	}
	return appendBig256(l, x)
}

//go:noinline
func setDictBig256(d *mp.Dict[string, big256], x *big256) error {
	y := *x
	return d.Set("k", y)
}

//go:noinline
func appendBig256(l *mp.List[big256], x *big256) error {
	y := *x
	return l.Append(y)
}

//go:noinline
func getBig256From(d *mp.Dict[string, big256], l *mp.List[big256]) error {
	v, ok, err := d.Get("k")
	if err != nil || !ok {
		return fmt.Errorf("Dict.Get: %v, %v", ok, err)
	}
	if v[5] != 7 || v[len(v)-1] != 9 {
		return fmt.Errorf("the Dict's value came back as %d...%d, want 7...9", v[5], v[len(v)-1])
	}
	e, err := l.Get(0)
	if err != nil {
		return err
	}
	if e[5] != 7 || e[len(e)-1] != 9 {
		return fmt.Errorf("the List's element came back as %d...%d, want 7...9", e[5], e[len(e)-1])
	}
	return nil
}

func TestProbeDictAndListValueOf256MiB(t *testing.T) { runOnManager(t, bigContainers) }

// Get of a small raw value still allocates nothing (Get is now a wrapper,
// inlined, around get).
func TestProbeSmallGetAllocatesNothing(t *testing.T) {
	d, err1 := mp.NewDict[int64, int64]()
	l, err2 := mp.NewList[int64]()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(d.Set(1, 1), l.Append(2)); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { d.Get(1); l.Get(0) }); n != 0 {
		t.Fatalf("Dict.Get and List.Get of an int64 allocate %v times, want 0", n)
	}
}
