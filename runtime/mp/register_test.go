package mp_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// shape travels inside interface values once registered, as it is here at
// package level, so that the re-executed worker registers it too.
type shape struct {
	Kind  string
	Sides int
	When  time.Time
}

var _ = mp.Register[shape]()

type notRegistered struct{ N int }

type anyArgs struct {
	Meta any // an interface field of the argument itself
	In   *mp.Queue[any]
	Out  *mp.Dict[string, any]
}

// anyEcho moves every item of In into Out under its index, and records the
// argument's own interface field.
var anyEcho = mp.NewFunc("mp_test.anyEcho", func(ctx context.Context, a anyArgs) error {
	if err := a.Out.Set("meta", a.Meta); err != nil {
		return err
	}
	for i := 0; ; i++ {
		x, err := a.In.GetContext(ctx)
		if errors.Is(err, mp.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.Out.Set(string(rune('a'+i)), x); err != nil {
			return err
		}
	}
})

func TestInterfaceValuesTravel(t *testing.T) {
	in, err := mp.NewQueue[any]()
	if err != nil {
		t.Fatal(err)
	}
	out, err := mp.NewDict[string, any]()
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	items := []any{
		shape{"square", 4, when}, 42, "text", 2.5, []string{"x", "y"},
		map[string]any{"nested": []any{true, int64(-1)}}, nil,
	}
	for _, x := range items {
		if err := in.Put(x); err != nil {
			t.Fatalf("Put(%#v): %v", x, err)
		}
	}
	if err := in.Put(notRegistered{1}); err == nil || !strings.Contains(err.Error(), "mp.Register") {
		t.Fatalf("Put of an unregistered type in an interface: %v, want an error that says to register it", err)
	}
	in.Close()
	p := start(t, anyEcho, anyArgs{Meta: shape{Kind: "meta"}, In: in, Out: out})
	if err := p.Join(); err != nil {
		t.Fatal(err)
	}
	for i, want := range items {
		got, ok, err := out.Get(string(rune('a' + i)))
		if err != nil || !ok {
			t.Fatalf("item %d: %v, %v", i, ok, err)
		}
		if s, isShape := got.(shape); isShape {
			if !s.When.Equal(when) {
				t.Errorf("item %d: When %v, want %v", i, s.When, when)
			}
			s.When = when
			got = s
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("item %d came back as %#v, want %#v", i, got, want)
		}
	}
	if m, _, err := out.Get("meta"); err != nil || !reflect.DeepEqual(m, shape{Kind: "meta"}) {
		t.Errorf("the argument's interface field arrived as %#v, %v", m, err)
	}
}

func TestRegisterRefusesAnotherTypeOfTheSameName(t *testing.T) {
	if err := mp.Register[shape](); err != nil {
		t.Fatalf("registering shape again: %v", err)
	}
	if err := mp.Register[chan int](); err == nil || !strings.Contains(err.Error(), "cannot travel") {
		t.Errorf("Register[chan int]: %v, want an error saying it cannot travel", err)
	}
}
