package codec

import (
	"encoding"
	"fmt"
	"reflect"
	"sync"
)

// typeCodec encodes and decodes one type, compiled on its first use.
type typeCodec struct {
	t    reflect.Type
	kind kind
	// min is the fewest bytes a value of t takes as this codec writes it, so
	// a decoder can refuse element counts its input cannot hold before it
	// allocates them.
	min int
	enc func(e *encoder, v reflect.Value) error
	dec func(d *decoder, v reflect.Value) error
}

// field is an exported struct field as it travels.
type field struct {
	name  string
	index int
	head  []byte // uvarint name length, name, kind byte
	tc    *typeCodec
}

var (
	compiled sync.Map // reflect.Type → *typeCodec or error

	// compileMu serialises compilation, which may visit a type it is
	// compiling already (a recursive type): building holds those.
	compileMu sync.Mutex
	building  map[reflect.Type]*typeCodec
)

// codecFor returns t's codec, compiling it and every type it contains on
// first use, or why t cannot travel.
func codecFor(t reflect.Type) (*typeCodec, error) {
	if c, ok := compiled.Load(t); ok {
		return unpack(c)
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	if c, ok := compiled.Load(t); ok {
		return unpack(c)
	}
	building = make(map[reflect.Type]*typeCodec)
	tc, err := compile(t)
	if err != nil {
		compiled.Store(t, err)
	} else {
		for bt, c := range building {
			compiled.Store(bt, c)
		}
	}
	building = nil
	return tc, err
}

func unpack(c any) (*typeCodec, error) {
	if err, ok := c.(error); ok {
		return nil, err
	}
	return c.(*typeCodec), nil
}

// compile builds t's codec; the caller holds compileMu. The errors say
// where in t the part that cannot travel is: "field Done: a chan ...".
func compile(t reflect.Type) (*typeCodec, error) {
	if tc, ok := building[t]; ok {
		return tc, nil
	}
	if c, ok := compiled.Load(t); ok {
		return unpack(c)
	}
	tc := &typeCodec{t: t}
	building[t] = tc
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if ok, err := compileSelf(tc); ok || err != nil {
			return tc, err
		}
	}
	var err error
	switch t.Kind() {
	case reflect.Bool:
		tc.kind, tc.min, tc.enc, tc.dec = kBool, 1, encBool, decBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		tc.kind, tc.min, tc.enc, tc.dec = kInt, 1, encInt, decInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		tc.kind, tc.min, tc.enc, tc.dec = kUint, 1, encUint, decUint
	case reflect.Float32, reflect.Float64:
		tc.kind, tc.min, tc.enc, tc.dec = kFloat, 8, encFloat, decFloat
	case reflect.Complex64, reflect.Complex128:
		tc.kind, tc.min, tc.enc, tc.dec = kComplex, 16, encComplex, decComplex
	case reflect.String:
		tc.kind, tc.min, tc.enc, tc.dec = kBytes, 1, encString, decString
	case reflect.Slice:
		err = compileSlice(tc)
	case reflect.Array:
		err = compileArray(tc)
	case reflect.Map:
		err = compileMap(tc)
	case reflect.Pointer:
		err = compilePointer(tc)
	case reflect.Struct:
		err = compileStruct(tc)
	case reflect.Interface:
		tc.kind, tc.min, tc.enc, tc.dec = kInterface, 1, encInterface, decInterface
	default: // Chan, Func, UnsafePointer
		err = fmt.Errorf("%s cannot travel to another process", map[reflect.Kind]string{
			reflect.Chan: "a chan", reflect.Func: "a func", reflect.UnsafePointer: "an unsafe.Pointer"}[t.Kind()])
	}
	if err != nil {
		delete(building, t)
		return nil, err
	}
	return tc, nil
}

func compileSlice(tc *typeCodec) error {
	if tc.t.Elem().Kind() == reflect.Uint8 {
		tc.kind, tc.min, tc.enc, tc.dec = kBytes, 1, encByteSlice, decByteSlice
		return nil
	}
	tc.kind, tc.min = kList, 1 // before the element, which may be t again
	elem, err := compile(tc.t.Elem())
	if err != nil {
		return fmt.Errorf("element: %w", err)
	}
	tc.enc = func(e *encoder, v reflect.Value) error { return e.slice(elem, v) }
	tc.dec = func(d *decoder, v reflect.Value) error { return d.slice(elem, v) }
	return nil
}

func compileArray(tc *typeCodec) error {
	n := tc.t.Len()
	if tc.t.Elem().Kind() == reflect.Uint8 {
		tc.kind, tc.min, tc.enc, tc.dec = kList, n+1, encByteArray, decByteArray
		return nil
	}
	elem, err := compile(tc.t.Elem())
	if err != nil {
		return fmt.Errorf("element: %w", err)
	}
	tc.kind, tc.min = kList, 1+n*elem.min
	tc.enc = func(e *encoder, v reflect.Value) error { return e.array(elem, v) }
	tc.dec = func(d *decoder, v reflect.Value) error { return d.array(elem, v) }
	return nil
}

func compileMap(tc *typeCodec) error {
	tc.kind, tc.min = kMap, 1
	key, err := compile(tc.t.Key())
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	elem, err := compile(tc.t.Elem())
	if err != nil {
		return fmt.Errorf("element: %w", err)
	}
	tc.enc = func(e *encoder, v reflect.Value) error { return e.mapping(key, elem, v) }
	tc.dec = func(d *decoder, v reflect.Value) error { return d.mapping(key, elem, v) }
	return nil
}

func compilePointer(tc *typeCodec) error {
	tc.kind, tc.min = kPointer, 1
	elem, err := compile(tc.t.Elem())
	if err != nil {
		return err
	}
	tc.enc = func(e *encoder, v reflect.Value) error { return e.pointer(elem, v) }
	tc.dec = func(d *decoder, v reflect.Value) error { return d.pointer(elem, v) }
	return nil
}

// compileStruct sends the exported fields, as encoding/gob does; a struct
// that has fields but none exported is refused, since nothing of it would
// arrive. A chan or func field is refused rather than dropped: the receiver
// would find it nil.
func compileStruct(tc *typeCodec) error {
	t := tc.t
	tc.kind = kStruct
	var fields []field
	min := 1
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		ftc, err := compile(sf.Type)
		if err != nil {
			return fmt.Errorf("field %s: %w", sf.Name, err)
		}
		head := appendString(nil, sf.Name)
		head = append(head, byte(ftc.kind))
		fields = append(fields, field{name: sf.Name, index: i, head: head, tc: ftc})
		min += len(head) + 4 + ftc.min
	}
	if t.NumField() > 0 && len(fields) == 0 {
		return fmt.Errorf("%s has no exported fields, so nothing of it would arrive", t)
	}
	byName := make(map[string]int, len(fields))
	for i, f := range fields {
		byName[f.name] = i
	}
	tc.min = min
	tc.enc = func(e *encoder, v reflect.Value) error { return e.structure(fields, v) }
	tc.dec = func(d *decoder, v reflect.Value) error { return d.structure(fields, byName, v) }
	return nil
}

var (
	gobEncoder = reflect.TypeFor[interface{ GobEncode() ([]byte, error) }]()
	gobDecoder = reflect.TypeFor[interface{ GobDecode([]byte) error }]()
	binEncoder = reflect.TypeFor[encoding.BinaryMarshaler]()
	binDecoder = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	txtEncoder = reflect.TypeFor[encoding.TextMarshaler]()
	txtDecoder = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// compileSelf makes a type that encodes itself travel as the bytes its
// method returns, preferring GobEncode, then MarshalBinary, then
// MarshalText, as encoding/gob does (the runtime/mp handles, time.Time,
// big.Int). ok reports whether t is such a type.
func compileSelf(tc *typeCodec) (ok bool, err error) {
	pt := reflect.PointerTo(tc.t)
	for _, m := range [...]struct {
		enc, dec         reflect.Type
		encName, decName string // not enc.Method(0).Name: reflect's Method keeps every method of every type in the binary
		encode           func(any) ([]byte, error)
		decode           func(any, []byte) error
	}{
		{gobEncoder, gobDecoder, "GobEncode", "GobDecode",
			func(x any) ([]byte, error) { return x.(interface{ GobEncode() ([]byte, error) }).GobEncode() },
			func(x any, b []byte) error { return x.(interface{ GobDecode([]byte) error }).GobDecode(b) }},
		{binEncoder, binDecoder, "MarshalBinary", "UnmarshalBinary",
			func(x any) ([]byte, error) { return x.(encoding.BinaryMarshaler).MarshalBinary() },
			func(x any, b []byte) error { return x.(encoding.BinaryUnmarshaler).UnmarshalBinary(b) }},
		{txtEncoder, txtDecoder, "MarshalText", "UnmarshalText",
			func(x any) ([]byte, error) { return x.(encoding.TextMarshaler).MarshalText() },
			func(x any, b []byte) error { return x.(encoding.TextUnmarshaler).UnmarshalText(b) }},
	} {
		byValue := tc.t.Implements(m.enc)
		if !byValue && !pt.Implements(m.enc) {
			continue
		}
		if !pt.Implements(m.dec) {
			return true, fmt.Errorf("%s has %s but %s has not %s, so it could not be decoded", tc.t, m.encName, pt, m.decName)
		}
		encode, decode := m.encode, m.decode
		tc.kind, tc.min = kSelf, 1
		tc.enc = func(e *encoder, v reflect.Value) error {
			var x any
			switch {
			case byValue:
				x = v.Interface()
			case v.CanAddr():
				x = v.Addr().Interface()
			default:
				p := reflect.New(v.Type())
				p.Elem().Set(v)
				x = p.Interface()
			}
			b, err := encode(x)
			if err != nil {
				return err
			}
			e.b = appendBytes(e.b, b)
			return nil
		}
		tc.dec = func(d *decoder, v reflect.Value) error {
			b, err := d.bytes()
			if err != nil {
				return err
			}
			return decode(v.Addr().Interface(), b)
		}
		return true, nil
	}
	return false, nil
}
