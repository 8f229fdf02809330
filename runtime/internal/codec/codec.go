// Package codec turns values into bytes and back for shared containers that
// hold any type (Queue, Dict, List). Pointer-free fixed-size types are copied
// raw; strings and byte slices are copied as they are; everything else goes
// through this package's own format (wire.go), in which runtime/mp handles
// encode themselves as portable references.
package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/layout"
)

// Codec encodes and decodes values of one type.
type Codec[T any] interface {
	// Append appends the encoding of x to dst.
	Append(dst []byte, x T) ([]byte, error)
	// Decode decodes one value from all of b.
	Decode(b []byte) (T, error)
}

// For returns the default codec for T: raw bytes for pointer-free types,
// direct copies for string and []byte, Value for the rest.
func For[T any]() Codec[T] {
	t := reflect.TypeFor[T]()
	if layout.Raw(t) == nil {
		return Raw[T]{}
	}
	switch any(*new(T)).(type) {
	case string:
		return any(stringCodec{}).(Codec[T])
	case []byte:
		return any(bytesCodec{}).(Codec[T])
	}
	return Value[T]{}
}

// IsRaw reports whether For[T] copies T's bytes as they are.
func IsRaw[T any]() bool { return layout.Raw(reflect.TypeFor[T]()) == nil }

// Raw copies the bytes of a pointer-free type.
type Raw[T any] struct{}

// Append implements Codec.
func (Raw[T]) Append(dst []byte, x T) ([]byte, error) {
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(&x)), unsafe.Sizeof(x))...), nil
}

// Decode implements Codec.
func (Raw[T]) Decode(b []byte) (T, error) {
	var x T
	if uintptr(len(b)) != unsafe.Sizeof(x) {
		return x, fmt.Errorf("codec: %d bytes for a %T of %d bytes", len(b), x, unsafe.Sizeof(x))
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&x)), unsafe.Sizeof(x)), b)
	return x, nil
}

type stringCodec struct{}

func (stringCodec) Append(dst []byte, x string) ([]byte, error) { return append(dst, x...), nil }
func (stringCodec) Decode(b []byte) (string, error)             { return string(b), nil }

type bytesCodec struct{}

func (bytesCodec) Append(dst []byte, x []byte) ([]byte, error) { return append(dst, x...), nil }
func (bytesCodec) Decode(b []byte) ([]byte, error)             { return bytes.Clone(b), nil }

// Value encodes any type that can travel in the format of wire.go; each
// message is self-contained, so any message can be decoded alone, by any
// process.
type Value[T any] struct{}

// Append implements Codec.
func (Value[T]) Append(dst []byte, x T) ([]byte, error) { return Append(dst, x) }

// Decode implements Codec.
func (Value[T]) Decode(b []byte) (T, error) { return Decode[T](b) }

// Append appends the encoding of x to dst; on error dst is returned as it
// was.
func Append[T any](dst []byte, x T) ([]byte, error) {
	t := reflect.TypeFor[T]()
	tc, err := codecFor(t)
	if err != nil {
		return dst, fmt.Errorf("codec: %s cannot travel: %w", t, err)
	}
	e := encoder{b: append(dst, formatVersion)}
	if err := tc.enc(&e, reflect.ValueOf(&x).Elem()); err != nil {
		return dst, fmt.Errorf("codec: encode %s: %w", t, err)
	}
	return e.b, nil
}

// Decode decodes a T from all of b, which Append wrote.
func Decode[T any](b []byte) (T, error) {
	var x T
	t := reflect.TypeFor[T]()
	tc, err := codecFor(t)
	if err != nil {
		return x, fmt.Errorf("codec: %s cannot travel: %w", t, err)
	}
	switch {
	case len(b) == 0:
		return x, fmt.Errorf("codec: decode %s: empty message", t)
	case b[0] != formatVersion:
		return x, fmt.Errorf("codec: decode %s: message of format %d, not %d", t, b[0], formatVersion)
	}
	d := decoder{b: b[1:]}
	if err := tc.dec(&d, reflect.ValueOf(&x).Elem()); err != nil {
		return x, fmt.Errorf("codec: decode %s: %w", t, err)
	}
	if len(d.b) != 0 {
		return x, fmt.Errorf("codec: decode %s: %d bytes left over", t, len(d.b))
	}
	return x, nil
}
