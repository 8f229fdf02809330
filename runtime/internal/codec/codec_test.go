package codec

import (
	"reflect"
	"testing"
)

type point struct{ X, Y int32 }

type record struct {
	Name string
	Tags map[string]int
}

func roundTrip[T any](t *testing.T, c Codec[T], x T) {
	t.Helper()
	b, err := c.Append([]byte("prefix"), x)
	if err != nil {
		t.Fatalf("Append(%v): %v", x, err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatalf("Append clobbered dst: %q", b[:6])
	}
	got, err := c.Decode(b[6:])
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, x) {
		t.Fatalf("round trip of %#v gave %#v", x, got)
	}
}

func TestFor(t *testing.T) {
	if _, ok := For[point]().(Raw[point]); !ok {
		t.Errorf("For[point] = %T, want Raw", For[point]())
	}
	if _, ok := For[string]().(stringCodec); !ok {
		t.Errorf("For[string] = %T, want the string codec", For[string]())
	}
	if _, ok := For[record]().(Value[record]); !ok {
		t.Errorf("For[record] = %T, want Value", For[record]())
	}
	roundTrip(t, For[point](), point{3, -4})
	roundTrip(t, For[int64](), -1<<40)
	roundTrip(t, For[string](), "héllo")
	roundTrip(t, For[[]byte](), []byte{0, 1, 2, 255})
	roundTrip(t, For[record](), record{Name: "a", Tags: map[string]int{"x": 1}})
}

func TestDecodeErrors(t *testing.T) {
	if _, err := For[point]().Decode([]byte{1, 2, 3}); err == nil {
		t.Error("Raw decode of 3 bytes into an 8-byte type succeeded")
	}
	if _, err := For[record]().Decode([]byte("not a message")); err == nil {
		t.Error("Value decode of garbage succeeded")
	}
}
