package arena

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// DefaultSize is the family arena's size unless MPRACE_ARENA_SIZE says
// otherwise. The memfd is sparse, so this is address space, not memory.
const DefaultSize = 1 << 30

// SizeEnv names the environment variable that sets the family arena's size
// in bytes.
const SizeEnv = "MPRACE_ARENA_SIZE"

// The family arena is the one a process and the workers it starts share: made
// by the first shared object of the root process, inherited by each worker.
var family struct {
	sync.Mutex
	a *Arena
}

// Family returns the process family's arena, creating it on first use.
func Family() (*Arena, error) {
	family.Lock()
	defer family.Unlock()
	if family.a != nil {
		return family.a, nil
	}
	size := int64(DefaultSize)
	if s := os.Getenv(SizeEnv); s != "" {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil || n < MinSize {
			return nil, fmt.Errorf("mp: %s=%q: want a size in bytes of at least %d", SizeEnv, s, MinSize)
		}
		size = n
	}
	a, err := Create(size)
	if err != nil {
		// Not cached: a transient failure (out of memory for the mapping)
		// should not poison every later call.
		return nil, fmt.Errorf("mp: create shared arena: %w", err)
	}
	family.a = a
	return a, nil
}

// ErrMainLate reports a worker that made shared objects before mp.Main ran:
// they live in an arena of its own, which no other process can see.
var ErrMainLate = errors.New("mp.Main was called after this program made shared objects; call mp.Main first thing in main (and in TestMain), before any NewLock, NewValue, NewQueue, ...")

// InheritFamily makes the arena file a worker inherited its family arena.
func InheritFamily(f *os.File) error {
	family.Lock()
	defer family.Unlock()
	if family.a != nil {
		return ErrMainLate
	}
	f, err := ReopenInherited(f)
	if err != nil {
		return fmt.Errorf("mp: open inherited shared arena: %w", err)
	}
	a, err := Open(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("mp: open inherited shared arena: %w", err)
	}
	family.a = a
	return nil
}
