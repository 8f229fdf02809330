package codec

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type inner struct {
	A []int16
	B map[string][]byte
	C *float32
}

type everything struct {
	Bool    bool
	Int     int
	I8      int8
	U64     uint64
	Uptr    uintptr
	F32     float32
	F64     float64
	C128    complex128
	Str     string
	Bytes   []byte
	Arr     [3]uint8
	Grid    [2][2]int32
	Slice   []string
	Nil     []string
	Empty   []string
	Map     map[int64]string
	NilMap  map[string]int
	Ptr     *inner
	NilPtr  *inner
	PtrPtr  **int
	Inner   inner
	Any     any
	NilAny  any
	Anys    []any
	When    time.Time
	Big     *big.Int
	Text    textual
	private int // not sent
}

// textual encodes itself with MarshalText only, on a pointer receiver.
type textual struct{ v string }

func (t *textual) MarshalText() ([]byte, error) { return []byte("<" + t.v + ">"), nil }
func (t *textual) UnmarshalText(b []byte) error { t.v = strings.Trim(string(b), "<>"); return nil }

func TestValueRoundTrip(t *testing.T) {
	f := float32(2.5)
	n := 7
	pn := &n
	x := everything{
		Bool: true, Int: -1 << 40, I8: -128, U64: math.MaxUint64, Uptr: 42,
		F32: 1.5, F64: math.Inf(-1), C128: complex(1, -2), Str: "héllo", Bytes: []byte{0, 255},
		Arr: [3]uint8{1, 2, 3}, Grid: [2][2]int32{{1, 2}, {3, 4}},
		Slice: []string{"a", ""}, Empty: []string{}, Map: map[int64]string{-1: "x", 2: "y"},
		Ptr:    &inner{A: []int16{-3}, B: map[string][]byte{"k": []byte("v")}, C: &f},
		PtrPtr: &pn, Inner: inner{C: &f}, Any: map[string]any{"n": 1, "s": []any{"x", 2.5}},
		Anys: []any{int8(1), "two", nil, []string{"three"}},
		When: time.Date(2026, 11, 30, 9, 0, 0, 5, time.UTC), Big: big.NewInt(-1 << 62),
		Text: textual{"t"},
	}
	x.Big.Mul(x.Big, x.Big)
	b, err := Append(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[everything](b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.When.Equal(x.When) {
		t.Errorf("When = %v, want %v", got.When, x.When)
	}
	if got.Big.Cmp(x.Big) != 0 {
		t.Errorf("Big = %v, want %v", got.Big, x.Big)
	}
	got.When, x.When, got.Big, x.Big = time.Time{}, time.Time{}, nil, nil
	x.private = 0
	if !reflect.DeepEqual(got, x) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, x)
	}
	if got.Nil != nil || got.Empty == nil || got.NilMap != nil || got.NilPtr != nil || got.NilAny != nil {
		t.Errorf("nil and empty are not kept apart: %#v %#v %#v %#v %#v", got.Nil, got.Empty, got.NilMap, got.NilPtr, got.NilAny)
	}
}

func TestTopLevelPointers(t *testing.T) {
	type node struct {
		V    int
		Next *node
	}
	list := &node{1, &node{2, nil}}
	for _, x := range []*node{nil, list} {
		b, err := Append(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode[*node](b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, x) {
			t.Errorf("round trip of %v gave %v", x, got)
		}
	}
}

func TestRefused(t *testing.T) {
	type withChan struct {
		Name string
		Done chan struct{}
	}
	type hidden struct{ a, b int }
	type deep struct{ In []map[string]hidden }
	for _, c := range []struct {
		err  error
		want string
	}{
		{try[withChan](), "field Done: a chan cannot travel"},
		{try[hidden](), "has no exported fields"},
		{try[deep](), "field In: element: element: "},
		{try[func()](), "a func cannot travel"},
		{try[struct{ F *func() }](), "field F: a func cannot travel"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", c.err, c.want)
		}
	}
	if err := try[struct{}](); err != nil {
		t.Errorf("struct{}: %v", err)
	}
}

func try[T any]() error {
	var x T
	_, err := Append(nil, x)
	return err
}

type registered struct{ N int }

func TestInterfaces(t *testing.T) {
	_, err := Append(nil, any(registered{1}))
	if !errors.Is(err, ErrUnregistered) || !strings.Contains(err.Error(), "mp.Register") {
		t.Fatalf("unregistered type in an interface: %v", err)
	}
	if err := Register(reflect.TypeFor[registered]()); err != nil {
		t.Fatal(err)
	}
	if err := Register(reflect.TypeFor[registered]()); err != nil {
		t.Fatalf("second Register: %v", err)
	}
	b, err := Append(nil, []any{registered{1}, &registered{2}})
	if err == nil {
		t.Fatalf("*registered travelled unregistered")
	}
	b, err = Append(nil, []any{registered{1}, "x"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[[]any](b)
	if err != nil || !reflect.DeepEqual(got, []any{registered{1}, "x"}) {
		t.Fatalf("Decode = %v, %v", got, err)
	}
	// A type this process does not know: the name is there, the type is not.
	bad := append([]byte{formatVersion}, appendString(nil, "example.com/x.T")...)
	if _, err := Decode[any](bad); !errors.Is(err, ErrUnregistered) {
		t.Errorf("unknown name: %v", err)
	}
	// A registered type that does not implement the receiver's interface.
	b, _ = Append(nil, any(registered{3}))
	if _, err := Decode[error](b); err == nil || !strings.Contains(err.Error(), "does not implement") {
		t.Errorf("decoding into a wrong interface: %v", err)
	}
}

// Two programs with different versions of a type exchange what they share.
func TestVersionSkew(t *testing.T) {
	type v1 struct {
		ID   int
		Name string
		Old  []float64
	}
	type v2 struct {
		Name  string
		ID    int64
		Added map[string]int
	}
	b, err := Append(nil, v1{ID: 9, Name: "job", Old: []float64{1}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[v2](b)
	if err != nil || !reflect.DeepEqual(got, v2{Name: "job", ID: 9}) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	type v3 struct{ ID string }
	if _, err := Decode[v3](b); err == nil || !strings.Contains(err.Error(), "field ID was sent as a signed integer, not a string") {
		t.Errorf("kind mismatch: %v", err)
	}
	type small struct{ ID int8 }
	big, _ := Append(nil, v1{ID: 300})
	if _, err := Decode[small](big); err == nil || !strings.Contains(err.Error(), "300 overflows int8") {
		t.Errorf("overflow: %v", err)
	}
}

func TestDepthLimit(t *testing.T) {
	type node struct{ Next *node }
	build := func(n int) *node {
		var head *node
		for range n {
			head = &node{head}
		}
		return head
	}
	b, err := Append(nil, build(maxDepth/3))
	if err != nil {
		t.Fatalf("a list of %d: %v", maxDepth/3, err)
	}
	if _, err := Decode[*node](b); err != nil {
		t.Fatalf("decode a list of %d: %v", maxDepth/3, err)
	}
	cycle := &node{}
	cycle.Next = cycle
	_, err = Append(nil, cycle)
	if !errors.Is(err, errTooDeep) {
		t.Fatalf("a cycle: %v", err)
	}
	// The path of a failure that deep is cut short in the middle.
	if msg := err.Error(); len(msg) > 500 || !strings.Contains(msg, "levels) ...: field Next: ") {
		t.Errorf("a cycle's error is %d bytes: %.300s", len(msg), msg)
	}
	// A hostile message nesting deeper than any encoder writes.
	type nest []nest
	deep := []byte{formatVersion}
	for range maxDepth + 1 {
		deep = append(deep, 2) // one element, which is
	}
	deep = append(deep, 1) // an empty nest
	if _, err := Decode[nest](deep); !errors.Is(err, errTooDeep) {
		t.Errorf("a deep message: %v", err)
	}
}

func TestHostileCounts(t *testing.T) {
	// A count of 2^62 elements in a message of a few bytes is refused
	// before anything is allocated.
	msg := []byte{formatVersion, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40}
	if _, err := Decode[[][1 << 20]int64](msg); err == nil || !strings.Contains(err.Error(), "cannot fit") {
		t.Errorf("huge count: %v", err)
	}
	if _, err := Decode[map[string]int](msg); err == nil || !strings.Contains(err.Error(), "cannot fit") {
		t.Errorf("huge map: %v", err)
	}
	if _, err := Decode[int](nil); err == nil {
		t.Error("empty message decoded")
	}
	if _, err := Decode[int]([]byte{formatVersion + 1, 0}); err == nil || !strings.Contains(err.Error(), "format") {
		t.Errorf("another format: %v", err)
	}
	if _, err := Decode[int]([]byte{formatVersion, 2, 0}); err == nil || !strings.Contains(err.Error(), "left over") {
		t.Errorf("trailing bytes: %v", err)
	}
}

func TestLargeValue(t *testing.T) {
	type blob struct {
		Name string
		Data []byte
	}
	x := blob{"big", make([]byte, 64<<20)}
	x.Data[len(x.Data)-1] = 7
	b, err := Append(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[blob](b)
	if err != nil || got.Name != "big" || len(got.Data) != len(x.Data) || got.Data[len(x.Data)-1] != 7 {
		t.Fatalf("Decode: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	n := 3
	for _, x := range []everything{{}, {Str: "s", Ptr: &inner{A: []int16{1}}, Any: []any{1, "x"}, Map: map[int64]string{1: "a"}, PtrPtr: func() **int { p := &n; return &p }()}} {
		b, err := Append(nil, x)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Decode[everything](b)
		if err != nil {
			return
		}
		// What decodes encodes again, and the same way once more.
		b2, err := Append(nil, x)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := Decode[everything](b2); err != nil {
			t.Fatalf("decode of a re-encoding: %v", err)
		}
	})
}

// halfSelf can encode itself but not decode itself.
type halfSelf struct{ v int }

func (halfSelf) MarshalText() ([]byte, error) { return []byte("x"), nil }

func TestSelfEncodingNeedsItsDecoder(t *testing.T) {
	err := try[halfSelf]()
	if err == nil || !strings.Contains(err.Error(), "codec.halfSelf has MarshalText but *codec.halfSelf has not UnmarshalText") {
		t.Errorf("half a self-encoding type: %v", err)
	}
	if err := try[struct{ P unsafe.Pointer }](); err == nil || !strings.Contains(err.Error(), "field P: an unsafe.Pointer cannot travel") {
		t.Errorf("unsafe.Pointer: %v", err)
	}
}
