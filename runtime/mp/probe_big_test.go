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

func TestProbeManagedValueOf256MiB(t *testing.T) {
	name, m := newManager(t, mp.WithManagerSize(2<<30))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := bigManaged.Start(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
	if names, err := m.Names(); err != nil || !slices.Contains(names, "big") {
		t.Fatalf("the Manager holds %q (%v), want the Value \"big\"", names, err)
	}
}
