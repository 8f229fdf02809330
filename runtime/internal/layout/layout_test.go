package layout

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type flat struct {
	A int32
	B [4]float64
	C struct{ D bool }
}

type nested struct {
	X flat
	Y []int
}

type sameShape struct {
	A int32
	B [4]float64
	C struct{ D bool }
}

func TestRaw(t *testing.T) {
	for _, ty := range []reflect.Type{
		reflect.TypeFor[int8](), reflect.TypeFor[uintptr](), reflect.TypeFor[complex128](),
		reflect.TypeFor[[3]byte](), reflect.TypeFor[flat](), reflect.TypeFor[struct{}](),
	} {
		if err := Raw(ty); err != nil {
			t.Errorf("Raw(%s) = %v, want nil", ty, err)
		}
	}
	for ty, part := range map[reflect.Type]string{
		reflect.TypeFor[string]():         "string",
		reflect.TypeFor[*int]():           "ptr",
		reflect.TypeFor[nested]():         "layout.nested.Y is a slice",
		reflect.TypeFor[[2]map[int]int](): "[i] is a map",
		reflect.TypeFor[any]():            "interface",
		reflect.TypeFor[chan int]():       "chan",
		reflect.TypeFor[func()]():         "func",
	} {
		err := Raw(ty)
		if !errors.Is(err, ErrNotRaw) || !strings.Contains(err.Error(), part) {
			t.Errorf("Raw(%s) = %v, want ErrNotRaw mentioning %q", ty, err, part)
		}
	}
}

func TestFingerprint(t *testing.T) {
	fp := Fingerprint(reflect.TypeFor[flat]())
	if fp != Fingerprint(reflect.TypeFor[flat]()) {
		t.Fatal("fingerprint is not deterministic")
	}
	for _, other := range []reflect.Type{
		reflect.TypeFor[sameShape](), // same layout, another name
		reflect.TypeFor[int32](),
		reflect.TypeFor[[4]float64](),
	} {
		if Fingerprint(other) == fp {
			t.Errorf("%s has the fingerprint of flat", other)
		}
	}
	if Fingerprint(reflect.TypeFor[[2]int32]()) == Fingerprint(reflect.TypeFor[[3]int32]()) {
		t.Error("arrays of different lengths share a fingerprint")
	}
}
