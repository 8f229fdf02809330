// Package codec turns values into bytes and back for shared containers that
// hold any type (Queue, Dict, List). Pointer-free fixed-size types are copied
// raw; strings and byte slices are copied as they are; everything else goes
// through encoding/gob, in which runtime/mp handles encode themselves as
// portable references.
package codec

import (
	"bytes"
	"encoding/gob"
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
// direct copies for string and []byte, gob for the rest.
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
	return Gob[T]{}
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

// Gob encodes each value as a self-contained gob stream (type description
// included), so any message can be decoded alone, by any process. A pointer
// travels inside a one-field struct: gob cannot encode a pointer to a pointer
// whose target encodes itself (a handle such as *mp.Lock), and a nil pointer
// travels as an empty struct.
type Gob[T any] struct{}

type envelope[T any] struct{ V T }

func isPointer[T any]() bool { return reflect.TypeFor[T]().Kind() == reflect.Pointer }

// Append implements Codec.
func (Gob[T]) Append(dst []byte, x T) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	var v any = &x
	if isPointer[T]() {
		v = &envelope[T]{x}
	}
	if err := gob.NewEncoder(buf).Encode(v); err != nil {
		return dst, fmt.Errorf("codec: gob encode %s: %w", reflect.TypeFor[T](), err)
	}
	return buf.Bytes(), nil
}

// Decode implements Codec.
func (Gob[T]) Decode(b []byte) (T, error) {
	var e envelope[T]
	var v any = &e.V
	if isPointer[T]() {
		v = &e
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return e.V, fmt.Errorf("codec: gob decode %s: %w", reflect.TypeFor[T](), err)
	}
	return e.V, nil
}
