package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
)

type encoder struct {
	b []byte
	nesting
}

// errTooDeep is a type, not fmt.Errorf at package level: formatting there
// would run in every worker's initialisation, and fmt's first use faults in
// pages worth a measurable share of a start.
var errTooDeep error = tooDeep{}

type tooDeep struct{}

func (tooDeep) Error() string {
	return fmt.Sprintf("the value nests more than %d levels deep (a cycle of pointers?)", maxDepth)
}

// nesting counts the levels an encoder or decoder is inside a value.
type nesting struct{ depth int }

// enter counts one more level; leave undoes it.
func (n *nesting) enter() error {
	if n.depth++; n.depth > maxDepth {
		return errTooDeep
	}
	return nil
}

func (n *nesting) leave() { n.depth-- }

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func encBool(e *encoder, v reflect.Value) error {
	var b byte
	if v.Bool() {
		b = 1
	}
	e.b = append(e.b, b)
	return nil
}

func encInt(e *encoder, v reflect.Value) error {
	e.b = binary.AppendVarint(e.b, v.Int())
	return nil
}

func encUint(e *encoder, v reflect.Value) error {
	e.b = binary.AppendUvarint(e.b, v.Uint())
	return nil
}

func encFloat(e *encoder, v reflect.Value) error {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v.Float()))
	return nil
}

func encComplex(e *encoder, v reflect.Value) error {
	c := v.Complex()
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(real(c)))
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(imag(c)))
	return nil
}

func encString(e *encoder, v reflect.Value) error {
	e.b = appendString(e.b, v.String())
	return nil
}

func encByteSlice(e *encoder, v reflect.Value) error {
	e.b = appendBytes(e.b, v.Bytes())
	return nil
}

func encByteArray(e *encoder, v reflect.Value) error {
	n := v.Len()
	e.b = binary.AppendUvarint(e.b, uint64(n))
	if v.CanAddr() {
		e.b = append(e.b, v.Bytes()...)
		return nil
	}
	for i := range n {
		e.b = append(e.b, byte(v.Index(i).Uint()))
	}
	return nil
}

func (e *encoder) slice(elem *typeCodec, v reflect.Value) error {
	if v.IsNil() {
		e.b = append(e.b, 0)
		return nil
	}
	return e.elements(elem, v, uint64(v.Len())+1)
}

func (e *encoder) array(elem *typeCodec, v reflect.Value) error {
	return e.elements(elem, v, uint64(v.Len()))
}

// elements writes count (n+1 for a slice, n for an array), then the
// elements of v.
func (e *encoder) elements(elem *typeCodec, v reflect.Value, count uint64) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = binary.AppendUvarint(e.b, count)
	for i := range v.Len() {
		if err := elem.enc(e, v.Index(i)); err != nil {
			return at(err, fmt.Sprintf("element %d", i))
		}
	}
	return nil
}

func (e *encoder) mapping(key, elem *typeCodec, v reflect.Value) error {
	if v.IsNil() {
		e.b = append(e.b, 0)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = binary.AppendUvarint(e.b, uint64(v.Len())+1)
	for it := v.MapRange(); it.Next(); {
		if err := key.enc(e, it.Key()); err != nil {
			return at(err, "key")
		}
		if err := elem.enc(e, it.Value()); err != nil {
			return at(err, "element")
		}
	}
	return nil
}

func (e *encoder) pointer(elem *typeCodec, v reflect.Value) error {
	if v.IsNil() {
		e.b = append(e.b, 0)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = append(e.b, 1)
	return elem.enc(e, v.Elem())
}

func (e *encoder) structure(fields []field, v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = binary.AppendUvarint(e.b, uint64(len(fields)))
	for _, f := range fields {
		e.b = append(e.b, f.head...)
		size := len(e.b)
		e.b = append(e.b, 0, 0, 0, 0)
		if err := f.tc.enc(e, v.Field(f.index)); err != nil {
			return at(err, "field "+f.name)
		}
		n := len(e.b) - size - 4
		if n > maxField {
			return fmt.Errorf("field %s: %d bytes, more than a field can hold (%d)", f.name, n, maxField)
		}
		binary.LittleEndian.PutUint32(e.b[size:], uint32(n))
	}
	return nil
}

// ErrUnregistered is the error of an interface holding a type neither
// built in nor registered: the receiver could not name it.
var ErrUnregistered = errors.New("type not registered for interface values")

func encInterface(e *encoder, v reflect.Value) error {
	if v.IsNil() {
		e.b = append(e.b, 0)
		return nil
	}
	dyn := v.Elem()
	name, ok := nameOf(dyn.Type())
	if !ok {
		return fmt.Errorf("%s in an interface: %w (register it with mp.Register)", dyn.Type(), ErrUnregistered)
	}
	tc, err := codecFor(dyn.Type())
	if err != nil {
		return err
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = appendString(e.b, name)
	return tc.enc(e, dyn)
}
