package mp

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
)

// Put adds x to the queue, waiting while it is full. It fails with ErrClosed
// once the queue is closed, and with ErrTooLarge, at once, for an item that
// can never fit.
func (q *Queue[T]) Put(x T) error { return q.put(context.Background(), &x) }

// PutContext is Put that gives up when ctx is done, returning ctx's error.
func (q *Queue[T]) PutContext(ctx context.Context, x T) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return q.put(ctx, &x)
}

// TryPut adds x if there is room now, and fails with ErrFull otherwise.
func (q *Queue[T]) TryPut(x T) error { return q.put(nil, &x) }

// Get removes and returns the oldest item, waiting while the queue is empty.
// Once the queue is closed, it returns what is left and then ErrClosed.
func (q *Queue[T]) Get() (x T, err error) {
	err = q.get(context.Background(), &x)
	return x, err
}

// GetContext is Get that gives up when ctx is done, returning ctx's error.
func (q *Queue[T]) GetContext(ctx context.Context) (x T, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	err = q.get(ctx, &x)
	return x, err
}

// TryGet removes and returns the oldest item if there is one, and fails with
// ErrEmpty otherwise (ErrClosed if the queue is closed and drained).
func (q *Queue[T]) TryGet() (x T, err error) {
	err = q.get(nil, &x)
	return x, err
}

// Len returns how many items the queue holds. By the time the caller looks,
// other processes may have changed it.
func (q *Queue[T]) Len() int {
	q.valid()
	return q.r.Len()
}

// Close closes the queue for every process: Put fails with ErrClosed from
// now on, and Get returns the items left, then ErrClosed. Closing a closed
// queue does nothing. Close does not free the queue's memory, because other
// processes may still hold it.
func (q *Queue[T]) Close() (err error) {
	q.valid()
	if a := q.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return fmt.Errorf("mp: Queue: %w", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	q.r.Close()
	return nil
}

// encodeBuffers holds scratch buffers for the default codec, which is
// known not to keep them; a codec given by the user gets fresh memory.
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled keeps one huge message from pinning its buffer forever.
const maxPooled = 1 << 20

// put is Put, PutContext and TryPut: a nil ctx means do not wait. Items
// travel by pointer inside the package: a T of hundreds of megabytes copied
// into each frame would overflow the stack.
func (q *Queue[T]) put(ctx context.Context, x *T) (err error) {
	q.valid()
	if a := q.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return fmt.Errorf("mp: Queue: %w", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	switch q.mode {
	case modeRaw:
		err = q.r.Put(ctx, unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x)))
	case modeString:
		s := *(*string)(unsafe.Pointer(x))
		err = q.r.Put(ctx, unsafe.Slice(unsafe.StringData(s), len(s)))
	case modeBytes:
		err = q.r.Put(ctx, *(*[]byte)(unsafe.Pointer(x)))
	default:
		err = q.putEncoded(ctx, x)
	}
	if err != nil {
		return fmt.Errorf("mp: Queue[%s].Put: %w", reflect.TypeFor[T](), err)
	}
	return nil
}

func (q *Queue[T]) putEncoded(ctx context.Context, x *T) error {
	if q.id != 0 {
		b, err := q.codec.Append(nil, *x)
		if err != nil {
			return err
		}
		return q.r.Put(ctx, b)
	}
	buf := encodeBuffers.Get().(*[]byte)
	b, err := q.codec.Append((*buf)[:0], *x)
	if err == nil {
		err = q.r.Put(ctx, b)
	}
	if cap(b) <= maxPooled {
		*buf = b
		encodeBuffers.Put(buf)
	}
	return err
}

// get is Get, GetContext and TryGet, into *x: a nil ctx means do not wait.
func (q *Queue[T]) get(ctx context.Context, x *T) (err error) {
	q.valid()
	if a := q.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return fmt.Errorf("mp: Queue: %w", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	switch q.mode {
	case modeRaw:
		// The record is exactly T's size, so it lands in x with no copy
		// beyond the one out of shared memory.
		dst := unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x))[:0]
		var b []byte
		b, err = q.r.Get(ctx, dst)
		if err == nil && unsafe.SliceData(b) != unsafe.SliceData(dst) {
			err = fmt.Errorf("%w: record of %d bytes for a %d-byte item", ErrCorrupt, len(b), unsafe.Sizeof(*x))
		}
	case modeString:
		var b []byte
		if b, err = q.r.Get(ctx, nil); err == nil && len(b) > 0 {
			// b is fresh memory nobody else holds: a string may own it.
			*(*string)(unsafe.Pointer(x)) = unsafe.String(unsafe.SliceData(b), len(b))
		}
	case modeBytes:
		var b []byte
		if b, err = q.r.Get(ctx, nil); err == nil {
			if b == nil {
				b = []byte{}
			}
			*(*[]byte)(unsafe.Pointer(x)) = b
		}
	default:
		err = q.getEncoded(ctx, x)
	}
	if err != nil {
		return fmt.Errorf("mp: Queue[%s].Get: %w", reflect.TypeFor[T](), err)
	}
	return nil
}

func (q *Queue[T]) getEncoded(ctx context.Context, x *T) (err error) {
	if q.id != 0 {
		b, err := q.r.Get(ctx, nil)
		if err != nil {
			return err
		}
		*x, err = q.codec.Decode(b)
		return err
	}
	buf := encodeBuffers.Get().(*[]byte)
	b, err := q.r.Get(ctx, (*buf)[:0])
	if err == nil {
		*x, err = q.codec.Decode(b)
	}
	if cap(b) <= maxPooled {
		*buf = b
		encodeBuffers.Put(buf)
	}
	return err
}

func (q *Queue[T]) valid() {
	if q.r == nil {
		panic(fmt.Sprintf("mp: use of a Queue[%s] not made by NewQueue", reflect.TypeFor[T]()))
	}
	if q.ref.Arena.Closed() {
		panic(fmt.Sprintf("mp: use of a Queue[%s] after its Manager was closed", reflect.TypeFor[T]()))
	}
}

// GobEncode sends the queue's handle to another process of the family, as a
// worker argument or inside a message.
func (q *Queue[T]) GobEncode() ([]byte, error) {
	if q == nil {
		return nil, nilHandle("Queue")
	}
	if q.r == nil {
		return nil, fmt.Errorf("mp: encode a Queue[%s] not made by NewQueue", reflect.TypeFor[T]())
	}
	return q.ref.Encode(arena.KindQueue, q.fp), nil
}

// GobDecode attaches to a queue sent by another process of the family. A
// queue made WithCodec needs that codec registered here with RegisterCodec.
func (q *Queue[T]) GobDecode(b []byte) error {
	fp := queueFingerprint[T]()
	ref, err := arena.Decode(b, arena.KindQueue, queueVersion, fp)
	if err == nil {
		err = q.attach(ref, fp)
	}
	if err != nil {
		return fmt.Errorf("mp: decode Queue[%s]: %w", reflect.TypeFor[T](), err)
	}
	return nil
}

func (q *Queue[T]) attach(ref arena.Ref, fp uint64) error {
	if ref.Len < queueHeader {
		return fmt.Errorf("%w: Queue object of %d bytes", ErrCorrupt, ref.Len)
	}
	n := &Queue[T]{}
	if id := *(*uint64)(ref.Data); id != 0 {
		c, ok := codecs.Load(codecKey{reflect.TypeFor[T](), id})
		if !ok {
			return fmt.Errorf("%w: the queue was made WithCodec and no codec registered here matches (RegisterCodec)", ErrTypeMismatch)
		}
		n.codec, n.id = c.(Codec[T]), id
	}
	n.pickMode()
	if err := n.bind(ref, fp); err != nil {
		return err
	}
	q.ref, q.r, q.mode, q.codec, q.id, q.fp = n.ref, n.r, n.mode, n.codec, n.id, n.fp
	return nil
}
