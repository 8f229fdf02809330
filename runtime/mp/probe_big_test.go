package mp_test

import (
	"context"
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
