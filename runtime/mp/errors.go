package mp

import (
	"errors"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/layout"
	"github.com/mprace/mprace/runtime/internal/ring"
	"github.com/mprace/mprace/runtime/internal/rlock"
	"github.com/mprace/mprace/runtime/internal/table"
)

// Errors callers can test with errors.Is. Each is returned wrapped with the
// details of the case.
var (
	// ErrOwnerDead reports a lock taken over from a process that died holding
	// it. The caller holds the lock; what it guards may be half updated.
	ErrOwnerDead = rlock.ErrOwnerDead
	// ErrLocked reports a lock that TryLockErr found held by a live process.
	ErrLocked = errors.New("mp: lock is held by a live process")
	// ErrCorrupt reports shared memory or an encoded handle that fails the
	// checks on magic numbers, versions, offsets and lengths.
	ErrCorrupt = arena.ErrCorrupt
	// ErrTypeMismatch reports a shared object attached as another type than
	// it was made for.
	ErrTypeMismatch = arena.ErrTypeMismatch
	// ErrNoSpace reports a full shared arena (see MPRACE_ARENA_SIZE).
	ErrNoSpace = arena.ErrNoSpace
	// ErrPointers reports a type that cannot be stored raw in shared memory.
	ErrPointers = layout.ErrNotRaw
	// ErrUnknownArena reports a handle received from a process outside this
	// process's family.
	ErrUnknownArena = arena.ErrUnknownArena
)

// noCopy makes go vet's copylocks check report copies of a handle: a copy
// would share the object but not the process-local state behind it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Queue errors.
var (
	// ErrClosed reports a Put to a closed Queue, or a Get from a closed Queue
	// that has been drained.
	ErrClosed = ring.ErrClosed
	// ErrFull reports a TryPut to a full Queue.
	ErrFull = ring.ErrFull
	// ErrEmpty reports a TryGet from an empty Queue.
	ErrEmpty = ring.ErrEmpty
	// ErrTooLarge reports an item whose encoding exceeds the Queue's byte
	// capacity, so that it could never be put.
	ErrTooLarge = ring.ErrTooLarge
)

// Dict, List and Manager errors.
var (
	// ErrOutOfRange reports a List index outside the List as it was when
	// the method ran.
	ErrOutOfRange = table.ErrRange
	// ErrIncomplete reports a Manager whose creator died before it finished
	// making it; remove it with UnlinkManager.
	ErrIncomplete = arena.ErrIncomplete
)
