package mp

// The synchronisation objects (Event, Semaphore, Barrier, Condition, RLock)
// are KindSync objects of the family arena, told apart by their
// fingerprint. Each lays out a struct of fixed size at the object's data;
// waiters sleep on a waitq.Word in it (see runtime/internal/waitq), or, a
// Condition's, each on its own slot's word, watching the process whose
// death would otherwise strand them.

import (
	"fmt"
	"hash/fnv"
	"time"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/arena"
)

const (
	syncVersion = 1
	// syncBackstop bounds a sleep: it is not how deaths are noticed (the
	// processes a sleeper depends on are watched), it only covers a wake-up
	// lost to a notifier killed mid-notify. Five seconds, as the Queue's: each
	// sleep that ends costs an idle waiter's Go runtime several context
	// switches, and at one second a waiter used most of its 0.1% of a core
	// on a loaded machine.
	syncBackstop = 5 * time.Second
	// unwatchedBackstop bounds a sleep that cannot watch every process whose
	// death should end it, because that process may arrive after the sleep
	// began without waking it: a Condition waiter whose lock was free (the
	// next holder may die before notifying). Such a death is noticed within
	// a second.
	unwatchedBackstop = time.Second
)

func syncFP(what string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("mp.sync." + what))
	return h.Sum64()
}

// syncObj is the part every synchronisation handle has: its object and this
// process's owner id.
type syncObj struct {
	ref  arena.Ref
	self uint32
	what string
}

func (o *syncObj) init(what string, size uintptr) error {
	ref, err := newObject(nil, arena.KindSync, syncVersion, syncFP(what), size, "New"+what)
	if err != nil {
		return err
	}
	o.ref, o.self, o.what = ref, ref.Arena.Self(), what
	return nil
}

// valid panics unless the handle was made by a constructor. A zero handle
// has no what of its own: the caller names its type and constructor.
func (o *syncObj) valid(what, constructor string) {
	if o.ref.Data == nil {
		panic(fmt.Sprintf("mp: use of a %s not made by %s", what, constructor))
	}
}

func (o *syncObj) encode(what string) ([]byte, error) {
	if o.ref.Data == nil {
		return nil, fmt.Errorf("mp: encode a %s not made by New%s", what, what)
	}
	return o.ref.Encode(arena.KindSync, syncFP(what)), nil
}

// decode attaches to an object sent by another process, checking that it
// is a what of at least size bytes.
func (o *syncObj) decode(b []byte, what string, size uintptr) error {
	ref, err := arena.Decode(b, arena.KindSync, syncVersion, syncFP(what))
	if err == nil && ref.Len < uint64(size) {
		err = fmt.Errorf("%w: %s object of %d bytes, want %d", ErrCorrupt, what, ref.Len, size)
	}
	if err != nil {
		return fmt.Errorf("mp: decode %s: %w", what, err)
	}
	o.ref, o.self, o.what = ref, ref.Arena.Self(), what
	return nil
}

func syncState[S any](o *syncObj) *S { return (*S)(o.ref.Data) }

func sizeOf[S any]() uintptr { return unsafe.Sizeof(*new(S)) }
