package mp

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"reflect"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/layout"
)

// itemCodec encodes the keys and values of Dict and List. Pointer-free types
// are copied straight from and to the variable, without the allocation and
// the interface call of the general codec: they are the hot path of a
// counter dictionary.
type itemCodec[T any] struct {
	raw bool
	c   codec.Codec[T]
}

func newItemCodec[T any]() itemCodec[T] {
	return itemCodec[T]{raw: codec.IsRaw[T](), c: codec.For[T]()}
}

// encode returns the encoding of *x. For a raw T it is a view of x itself,
// valid while x is: no copy, no allocation.
func (c itemCodec[T]) encode(x *T) ([]byte, error) {
	if c.raw {
		return unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x)), nil
	}
	return c.encodeGeneral(x)
}

// encodeGeneral and decodeGeneral hold the general codec's copies of a T
// in frames of their own, which a raw T never reaches: a frame reserves
// room for every copy its body may make, and a raw T of hundreds of
// megabytes would overflow the stack of every caller.
//
//go:noinline
func (c itemCodec[T]) encodeGeneral(x *T) ([]byte, error) { return c.c.Append(nil, *x) }

//go:noinline
func (c itemCodec[T]) decodeGeneral(b []byte, x *T) error {
	v, err := c.c.Decode(b)
	if err == nil {
		*x = v
	}
	return err
}

// dst returns where to read an encoding of a T meant for x: x's own bytes
// for a raw T, so that reading it is decoding it.
func (c itemCodec[T]) dst(x *T) []byte {
	if c.raw {
		return unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x))[:0]
	}
	return nil
}

// decodeInto decodes b, read into c.dst(x), into *x.
func (c itemCodec[T]) decodeInto(b []byte, x *T) error {
	if c.raw && uintptr(len(b)) == unsafe.Sizeof(*x) {
		if unsafe.Pointer(unsafe.SliceData(b)) != unsafe.Pointer(x) {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(x)), len(b)), b)
		}
		return nil
	}
	// The general codec reports the length mismatch of a raw type. It gets
	// a copy: handing it b itself would make the compiler move every x
	// that b may view (the raw case's) to the heap.
	return c.decodeGeneral(bytes.Clone(b), x)
}

// zero sets *x to T's zero value, without a T-sized temporary in the
// caller's frame: Get's error paths use it on their result.
func (c itemCodec[T]) zero(x *T) {
	if c.raw {
		clear(unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x)))
		return
	}
	c.zeroGeneral(x)
}

//go:noinline
func (c itemCodec[T]) zeroGeneral(x *T) {
	var zero T
	*x = zero
}

func (c itemCodec[T]) decode(b []byte) (T, error) {
	var x T
	err := c.decodeInto(b, &x)
	return x, err
}

// containerFP fingerprints a container for its element types, so that a
// process attaching to it as Dict[string, int] cannot read one made as
// Dict[string, string].
func containerFP(what string, types ...reflect.Type) uint64 {
	h := fnv.New64a()
	h.Write([]byte(what))
	for _, t := range types {
		h.Write(binary.LittleEndian.AppendUint64(nil, layout.Fingerprint(t)))
	}
	return h.Sum64()
}
