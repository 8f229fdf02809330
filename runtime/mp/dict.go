package mp

// A Dict's object data is its own lock (the one users take for multi-step
// transactions), eight reserved bytes, and the header of a shared hash table
// (runtime/internal/table) with the table's lock, which every operation
// takes for the few loads and stores it needs.

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/table"
)

const (
	dictVersion = 1
	// containerHeader is the user lock and the reserved word before the
	// table header, in a Dict and a List.
	containerHeader = 16
	containerSize   = containerHeader + table.HeaderSize
)

// Dict is a map from K to V in shared memory, like the dict of Python's
// multiprocessing.Manager but without a server process: every process of
// the family (or every process that opened the Manager holding it) reads and
// writes it directly.
//
// Keys and values of pointer-free types are stored as raw bytes; strings
// and byte slices as they are; other types in the format Queue uses. Two keys
// are the same key when their encodings are equal.
//
// Each method is atomic, but Get followed by Set is not: to change a value
// based on what it was, use Update, or hold the Dict's own Lock across both.
type Dict[K comparable, V any] struct {
	_ noCopy
	ownLock
	m  *table.Map
	kc itemCodec[K]
	vc itemCodec[V]
}

// NewDict makes an empty Dict in the family's shared arena.
func NewDict[K comparable, V any]() (*Dict[K, V], error) {
	a, err := arena.Family()
	if err != nil {
		return nil, err
	}
	return newDictIn[K, V](a)
}

func dictFP[K comparable, V any]() uint64 {
	return containerFP("Dict", reflect.TypeFor[K](), reflect.TypeFor[V]())
}

func newDictIn[K comparable, V any](a *arena.Arena) (*Dict[K, V], error) {
	ref, err := a.NewObject(arena.KindDict, dictVersion, dictFP[K, V](), containerSize)
	if err != nil {
		return nil, fmt.Errorf("mp: NewDict[%s]: %w", dictTypes[K, V](), err)
	}
	d := &Dict[K, V]{}
	if err := d.bind(ref); err != nil {
		return nil, err
	}
	return d, nil
}

func dictTypes[K comparable, V any]() string {
	return reflect.TypeFor[K]().String() + ", " + reflect.TypeFor[V]().String()
}

func (d *Dict[K, V]) bind(ref arena.Ref) error {
	if ref.Len < containerSize {
		return fmt.Errorf("%w: Dict object of %d bytes", ErrCorrupt, ref.Len)
	}
	d.bindLock(ref)
	d.m = table.AttachMap(ref.Arena, unsafe.Add(ref.Data, containerHeader))
	d.kc, d.vc = newItemCodec[K](), newItemCodec[V]()
	return nil
}

func (d *Dict[K, V]) valid() {
	if d.m == nil {
		panic(fmt.Sprintf("mp: use of a Dict[%s] not made by NewDict", dictTypes[K, V]()))
	}
	if d.ref.Arena.Closed() {
		panic(fmt.Sprintf("mp: use of a Dict[%s] after its Manager was closed", dictTypes[K, V]()))
	}
}

func (d *Dict[K, V]) fail(op string, err error) error {
	return fmt.Errorf("mp: Dict[%s].%s: %w", dictTypes[K, V](), op, err)
}

// Get returns the value of k and whether k is in the Dict.
func (d *Dict[K, V]) Get(k K) (v V, ok bool, err error) {
	ok, err = d.get(k, &v)
	return v, ok, err
}

// get is Get into *v. Get stays small enough to inline, so that the V is the
// caller's own variable (on the heap beyond 128 KiB), never a temporary in a
// frame: a raw V may be hundreds of megabytes.
func (d *Dict[K, V]) get(k K, v *V) (ok bool, err error) {
	d.valid()
	if a := d.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return false, d.fail("Get", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	kb, err := d.kc.encode(&k)
	if err != nil {
		return false, d.fail("Get", err)
	}
	h := table.Hash(kb)
	if err := d.m.Lock(); err != nil {
		return false, d.fail("Get", err)
	}
	var vb []byte
	vb, ok, err = d.m.Get(kb, h, d.vc.dst(v))
	d.m.Unlock()
	if err == nil && ok {
		err = d.vc.decodeInto(vb, v)
	}
	if err != nil {
		d.vc.zero(v)
		return false, d.fail("Get", err)
	}
	return ok, nil
}

// Set sets the value of k.
func (d *Dict[K, V]) Set(k K, v V) (err error) {
	d.valid()
	if a := d.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return d.fail("Set", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	kb, err := d.kc.encode(&k)
	if err != nil {
		return d.fail("Set", err)
	}
	vb, err := d.vc.encode(&v)
	if err != nil {
		return d.fail("Set", err)
	}
	h := table.Hash(kb)
	if err := d.m.Lock(); err != nil {
		return d.fail("Set", err)
	}
	err = d.m.Set(kb, h, vb)
	d.m.Unlock()
	if err != nil {
		return d.fail("Set", err)
	}
	return nil
}

// Delete removes k and reports whether it was in the Dict. Its memory is
// reused by later insertions.
func (d *Dict[K, V]) Delete(k K) (_ bool, err error) {
	d.valid()
	if a := d.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return false, d.fail("Delete", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	kb, err := d.kc.encode(&k)
	if err != nil {
		return false, d.fail("Delete", err)
	}
	h := table.Hash(kb)
	if err := d.m.Lock(); err != nil {
		return false, d.fail("Delete", err)
	}
	ok, err := d.m.Delete(kb, h)
	d.m.Unlock()
	if err != nil {
		return ok, d.fail("Delete", err)
	}
	return ok, nil
}

// Len returns the number of keys.
func (d *Dict[K, V]) Len() int { d.valid(); return d.m.Len() }

// Update replaces the value of k with f(value) atomically and returns the
// new value; f receives V's zero value when k is absent. It holds the Dict's
// own lock, and the table's while f runs, so f must be quick and must not
// use the Dict; a goroutine holding the Dict's lock must not call Update.
func (d *Dict[K, V]) Update(k K, f func(V) V) (_ V, err error) {
	d.valid()
	var zero V
	if a := d.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return zero, d.fail("Update", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	kb, err := d.kc.encode(&k)
	if err != nil {
		return zero, d.fail("Update", err)
	}
	h := table.Hash(kb)
	// Holding the user lock orders Update with transactions that hold it;
	// a dead holder's half transaction is the user's to judge (LockContext
	// reports it), while Update's own step is whole either way.
	d.lock()
	defer d.unlock()
	if err := d.m.Lock(); err != nil {
		return zero, d.fail("Update", err)
	}
	defer d.m.Unlock()
	var old V
	vb, ok, err := d.m.Get(kb, h, d.vc.dst(&old))
	if err == nil && ok {
		err = d.vc.decodeInto(vb, &old)
	}
	if err != nil {
		return zero, d.fail("Update", err)
	}
	v := f(old)
	if vb, err = d.vc.encode(&v); err != nil {
		return zero, d.fail("Update", err)
	}
	if err := d.m.Set(kb, h, vb); err != nil {
		return zero, d.fail("Update", err)
	}
	return v, nil
}

// Items returns a snapshot of the Dict: its keys and values at one moment.
// Later changes do not show in the returned map.
func (d *Dict[K, V]) Items() (_ map[K]V, err error) {
	d.valid()
	if a := d.ref.Arena; a.Named() {
		if e := a.Usable(); e != nil {
			return nil, d.fail("Items", e)
		}
		defer a.Recover(a.Arm(), &err)
	}
	var buf []byte
	var ends []int // key end, value end, for each pair
	if err := d.m.Lock(); err != nil {
		return nil, d.fail("Items", err)
	}
	err = d.m.Each(func(k, v []byte) error {
		buf = append(buf, k...)
		ends = append(ends, len(buf))
		buf = append(buf, v...)
		ends = append(ends, len(buf))
		return nil
	})
	d.m.Unlock()
	if err != nil {
		return nil, d.fail("Items", err)
	}
	out := make(map[K]V, len(ends)/2)
	start := 0
	for i := 0; i < len(ends); i += 2 {
		k, err := d.kc.decode(buf[start:ends[i]])
		if err != nil {
			return nil, d.fail("Items", err)
		}
		v, err := d.vc.decode(buf[ends[i]:ends[i+1]])
		if err != nil {
			return nil, d.fail("Items", err)
		}
		out[k] = v
		start = ends[i+1]
	}
	return out, nil
}

// Lock acquires the Dict's own lock, for a transaction of several steps.
// Update takes the same lock; Get, Set, Delete and Items do not. If the
// holder died, Lock takes the lock over silently; LockContext reports it.
func (d *Dict[K, V]) Lock() { d.valid(); d.lock() }

// Unlock releases the Dict's own lock.
func (d *Dict[K, V]) Unlock() { d.valid(); d.unlock() }

// TryLock acquires the Dict's own lock if it is free.
func (d *Dict[K, V]) TryLock() bool { d.valid(); return d.tryLock() }

// LockContext acquires the Dict's own lock or gives up when ctx is done. It
// returns nil or an error wrapping ErrOwnerDead with the lock held (the dead
// holder's transaction may be half done), or ctx's error without it.
func (d *Dict[K, V]) LockContext(ctx context.Context) error {
	d.valid()
	if err := d.lockContext(ctx); err != nil {
		return d.fail("Lock", err)
	}
	return nil
}

// GobEncode sends the Dict's handle to another process that has its arena
// open: a worker of the family, or a process that opened its Manager.
func (d *Dict[K, V]) GobEncode() ([]byte, error) {
	if d == nil {
		return nil, nilHandle("Dict")
	}
	if d.m == nil {
		return nil, fmt.Errorf("mp: encode a Dict[%s] not made by NewDict", dictTypes[K, V]())
	}
	return d.ref.Encode(arena.KindDict, dictFP[K, V]()), nil
}

// GobDecode attaches to a Dict sent by another process.
func (d *Dict[K, V]) GobDecode(b []byte) error {
	ref, err := arena.Decode(b, arena.KindDict, dictVersion, dictFP[K, V]())
	if err == nil {
		err = d.bind(ref)
	}
	if err != nil {
		return fmt.Errorf("mp: decode Dict[%s]: %w", dictTypes[K, V](), err)
	}
	return nil
}
