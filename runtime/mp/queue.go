package mp

// A Queue object's data: the codec id (0 for the default codec), padding to
// a 64-byte boundary of the arena, then a ring (runtime/internal/ring, whose
// contract comment explains the crash safety). The padding is computed from
// arena offsets, which are the same in every process, so every process finds
// the ring at the same place.

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"sync"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/layout"
	"github.com/mprace/mprace/runtime/internal/ring"
)

const (
	queueVersion = 1
	queueHeader  = 16
	lineSize     = 64

	// DefaultQueueBytes is a Queue's byte capacity unless an option sets it.
	DefaultQueueBytes = 1 << 20
	// MaxQueueBytes is the largest byte capacity a Queue can have.
	MaxQueueBytes = ring.MaxSize
	// MaxQueueItems is the largest item capacity a Queue can have.
	MaxQueueItems = ring.MaxItems
)

// Codec encodes and decodes the values a Queue carries. It has the method
// set of the codecs Queue uses by default, so any of them, or a faster one
// written for T, can be given to WithCodec and RegisterCodec.
type Codec[T any] interface {
	// Append appends the encoding of x to dst.
	Append(dst []byte, x T) ([]byte, error)
	// Decode decodes one value from all of b. It must not keep b.
	Decode(b []byte) (T, error)
}

// QueueOption configures NewQueue.
type QueueOption func(*queueConfig)

type queueConfig struct {
	items, bytes int
	codec        any
}

// WithCapacity bounds the Queue to n items (at most MaxQueueItems). Without
// it, or with n = 0, a Queue is bounded by bytes alone.
func WithCapacity(n int) QueueOption { return func(c *queueConfig) { c.items = n } }

// WithByteCapacity bounds the bytes the Queue's messages may take, framing
// included (8 bytes a message, and padding to 8, for encoded types). The
// default is DefaultQueueBytes, or, for a pointer-free T with WithCapacity,
// room for exactly that many items.
func WithByteCapacity(n int) QueueOption { return func(c *queueConfig) { c.bytes = n } }

// WithCodec makes the Queue encode its items with c instead of the default
// (raw bytes for pointer-free T, the bytes of strings and byte slices, the
// package's own format for the rest). Other processes that receive the Queue need the same codec:
// register it there with RegisterCodec.
func WithCodec[T any](c Codec[T]) QueueOption { return func(qc *queueConfig) { qc.codec = c } }

var codecs sync.Map // codecKey -> Codec[T]

type codecKey struct {
	t  reflect.Type
	id uint64
}

// RegisterCodec makes c available to every Queue[T] this process receives
// from another that was made WithCodec(c). Call it at package level (in a
// variable initialiser or init), so that worker processes have it too.
func RegisterCodec[T any](c Codec[T]) {
	codecs.Store(codecKey{reflect.TypeFor[T](), codecID(c)}, c)
}

// Register lets values of type T travel inside interface values: a
// Queue[any], a Dict or List whose values are an interface, an interface
// field of an item or of a worker's argument. Built-in types need no
// registration: booleans, numbers, strings, slices of them, []any and
// map[string]any. Every process that receives such values must have
// registered T too: call Register at package level (var _ = mp.Register[T]()),
// so that workers, which re-execute the program, do. A type travels under
// its package path and name; registering another type under a taken name is
// an error, registering a type twice is not.
func Register[T any]() error {
	if err := codec.Register(reflect.TypeFor[T]()); err != nil {
		return fmt.Errorf("mp: %w", err)
	}
	return nil
}

// codecID names a codec by its dynamic type, which is the same in every
// process of a family because they all run one binary.
func codecID(c any) uint64 {
	h := fnv.New64a()
	h.Write([]byte(reflect.TypeOf(c).String()))
	return h.Sum64() | 1
}

// How a Queue turns T into bytes: the first three copy T's own bytes without
// encoding, the last calls a Codec.
type queueMode uint8

const (
	modeRaw queueMode = iota + 1
	modeString
	modeBytes
	modeCodec
)

// Queue is a bounded first-in first-out queue shared by the processes of a
// family, like Python's multiprocessing.Queue, for any T. Many processes and
// goroutines may put and get at once; each item is received exactly once,
// and items put by one goroutine are received in the order it put them.
//
// Pointer-free T is copied raw into shared memory; strings and byte slices
// are copied as they are; other types are encoded unless WithCodec says
// otherwise: exported struct fields by name (so two programs' versions of
// a type behind an interface exchange the fields they share), pointers
// (nil included), slices, maps,
// types with GobEncode, MarshalBinary or MarshalText methods, and interface
// values holding built-in types or types given to Register. runtime/mp
// handles (Lock, Value, Array, Queue, ...) travel in items and work in the
// receiving process. A channel or function in T, or a struct none of whose
// fields is exported, is refused with an error at the first Put.
//
// Put returns once the item is in shared memory: a process may exit right
// after it, with no flush and no join. A process killed in the middle of a
// Put or Get never wedges the Queue for the others: the one item in flight
// may be lost, none is duplicated or torn.
//
// Each method is atomic, so a Queue alone needs no lock. Len followed by Get
// is not: another consumer may empty the queue between them; use TryGet.
type Queue[T any] struct {
	_     noCopy
	ref   arena.Ref
	r     *ring.Ring
	mode  queueMode
	codec Codec[T]
	id    uint64 // the codec's id, 0 for the default
	fp    uint64
}

// NewQueue makes an empty Queue in the family's shared arena.
func NewQueue[T any](opts ...QueueOption) (*Queue[T], error) { return newQueueIn[T](nil, opts) }

// newQueueIn makes a Queue in a (nil: the family arena).
func newQueueIn[T any](a *arena.Arena, opts []QueueOption) (*Queue[T], error) {
	var cfg queueConfig
	for _, o := range opts {
		o(&cfg)
	}
	name := fmt.Sprintf("NewQueue[%s]", reflect.TypeFor[T]())
	q := &Queue[T]{}
	if cfg.codec != nil {
		c, ok := cfg.codec.(Codec[T])
		if !ok {
			return nil, fmt.Errorf("mp: %s: WithCodec was given a codec for another type (%T)", name, cfg.codec)
		}
		q.codec, q.id = c, codecID(c)
	}
	q.pickMode()
	rc, err := q.ringConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("mp: %s: %w", name, err)
	}
	size, err := rc.Size()
	if err != nil {
		return nil, fmt.Errorf("mp: %s: %w", name, err)
	}
	fp := queueFingerprint[T]()
	ref, err := newObject(a, arena.KindQueue, queueVersion, fp, uintptr(queueHeader+lineSize+size), name)
	if err != nil {
		return nil, err
	}
	*(*uint64)(ref.Data) = q.id
	mem, n := queueRing(ref)
	if err := ring.Init(mem, n, rc); err != nil {
		ref.Arena.FreeObject(ref.Off)
		return nil, fmt.Errorf("mp: %s: %w", name, err)
	}
	if err := q.bind(ref, fp); err != nil {
		ref.Arena.FreeObject(ref.Off)
		return nil, fmt.Errorf("mp: %s: %w", name, err)
	}
	return q, nil
}

// pickMode chooses how items travel from T and the codec.
func (q *Queue[T]) pickMode() {
	switch {
	case q.codec != nil:
		q.mode = modeCodec
	case codec.IsRaw[T]():
		q.mode = modeRaw
	default:
		switch any(*new(T)).(type) {
		case string:
			q.mode = modeString
		case []byte:
			q.mode = modeBytes
		default:
			q.mode, q.codec = modeCodec, codec.For[T]()
		}
	}
}

func (q *Queue[T]) ringConfig(cfg queueConfig) (ring.Config, error) {
	var rc ring.Config
	rc.Fixed = q.fixed()
	if cfg.items < 0 || cfg.items > MaxQueueItems {
		return rc, fmt.Errorf("capacity of %d items is outside [1, %d]", cfg.items, MaxQueueItems)
	}
	if cfg.bytes < 0 || cfg.bytes > MaxQueueBytes {
		return rc, fmt.Errorf("capacity of %d bytes is outside [%d, %d]", cfg.bytes, ring.MinSize, MaxQueueBytes)
	}
	rc.ItemCap, rc.ByteCap = uint64(cfg.items), uint64(cfg.bytes)
	if rc.ItemCap == 0 {
		rc.ItemCap = MaxQueueItems
	}
	if rc.ByteCap == 0 {
		rc.ByteCap = DefaultQueueBytes
		if rc.Fixed != 0 && cfg.items > 0 {
			rc.ByteCap = max(ring.MinSize, rc.ItemCap*((rc.Fixed+7)&^7))
		}
	}
	if rc.ByteCap < ring.MinSize {
		return rc, fmt.Errorf("capacity of %d bytes is below the minimum %d", rc.ByteCap, ring.MinSize)
	}
	if rc.ByteCap > MaxQueueBytes {
		return rc, fmt.Errorf("%d items of %d bytes exceed the largest capacity, %d bytes", rc.ItemCap, rc.Fixed, MaxQueueBytes)
	}
	return rc, nil
}

// fixed is the ring's record size for T: T's size when T travels raw, 0
// (length-prefixed records) otherwise. A zero-size T travels raw in empty
// length-prefixed records, since fixed records of no bytes would take no
// room and so could never fill the queue.
func (q *Queue[T]) fixed() uint64 {
	if q.mode != modeRaw {
		return 0
	}
	return uint64(unsafe.Sizeof(*new(T)))
}

func queueFingerprint[T any]() uint64 { return layout.Fingerprint(reflect.TypeFor[T]()) }

// queueRing returns where the ring lives in a Queue object, and its length.
func queueRing(ref arena.Ref) (unsafe.Pointer, uint64) {
	start := ref.Off + uint64(arena.ObjHeader) + queueHeader
	pad := (lineSize - start%lineSize) % lineSize
	skip := queueHeader + pad
	if ref.Len < skip {
		return ref.Data, 0
	}
	return unsafe.Add(ref.Data, skip), ref.Len - skip
}

func (q *Queue[T]) bind(ref arena.Ref, fp uint64) error {
	if ref.Len < queueHeader {
		return fmt.Errorf("%w: Queue object of %d bytes", ErrCorrupt, ref.Len)
	}
	mem, n := queueRing(ref)
	r, err := ring.Attach(mem, n, ref.Arena.Self(), ref.Arena)
	if err != nil {
		return err
	}
	if fixed := r.Config().Fixed; fixed != q.fixed() {
		return fmt.Errorf("%w: Queue of %d-byte records for a %d-byte %s", ErrCorrupt, fixed, unsafe.Sizeof(*new(T)), reflect.TypeFor[T]())
	}
	q.ref, q.r, q.fp = ref, r, fp
	return nil
}
