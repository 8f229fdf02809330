package mp

import (
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

func (c itemCodec[T]) append(dst []byte, x *T) ([]byte, error) {
	if c.raw {
		return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x))...), nil
	}
	return c.c.Append(dst, *x)
}

func (c itemCodec[T]) decode(b []byte) (T, error) {
	if c.raw && uintptr(len(b)) == unsafe.Sizeof(*new(T)) {
		var x T
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&x)), len(b)), b)
		return x, nil
	}
	// The general codec reports the length mismatch of a raw type.
	return c.c.Decode(b)
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
