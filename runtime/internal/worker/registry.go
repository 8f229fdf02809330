package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
)

// Entry is the body of a worker: it receives the argument bytes the parent
// passed to Start and a context that is cancelled when the worker is asked to
// stop (Terminate, or Start's context ending under WithGrace).
type Entry func(ctx context.Context, arg []byte) error

var registry struct {
	sync.RWMutex
	entries map[string]Entry
	// sentinels is a slice, sorted by name only when read, not a map: a
	// worker registers a few dozen at initialisation and reads them only if
	// its entry fails, and every allocation at a start costs page faults.
	sentinels []sentinel
	sorted    bool
}

type sentinel struct {
	name string
	err  error
}

// Register records an entry under name. Call it at package level (from a
// variable initialiser or init), so that a worker, which runs no code of main
// before Main, has it too. Registering a name twice panics.
func Register(name string, run Entry) {
	if name == "" {
		panic("mp: worker entry with an empty name")
	}
	if run == nil {
		panic(fmt.Sprintf("mp: worker entry %q has a nil function", name))
	}
	registry.Lock()
	defer registry.Unlock()
	addUnique(&registry.entries, "worker entry", name, run)
}

// addUnique adds name to m, which the caller has locked, panicking on a
// duplicate: two packages claiming one name is a bug to fix at its source.
func addUnique[V any](m *map[string]V, what, name string, v V) {
	if _, dup := (*m)[name]; dup {
		panic(registeredTwice(what, name))
	}
	if *m == nil {
		*m = make(map[string]V)
	}
	(*m)[name] = v
}

func lookup(name string) Entry {
	registry.RLock()
	defer registry.RUnlock()
	return registry.entries[name]
}

// RegisterError makes err a sentinel that survives the trip from a worker to
// its parent: when an entry returns an error e with errors.Is(e, err), the
// error the parent gets from Wait satisfies errors.Is(_, err) too. The name
// identifies the sentinel on the wire and must be the same in every process,
// which registering at package level ensures. Registering a name twice panics.
func RegisterError(name string, err error) {
	if name == "" || err == nil {
		panic("mp: RegisterError needs a name and a non-nil error")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := sentinelNamed(name); dup {
		panic(registeredTwice("sentinel error", name))
	}
	if registry.sentinels == nil {
		registry.sentinels = make([]sentinel, 0, 32)
	}
	registry.sentinels = append(registry.sentinels, sentinel{name, err})
	registry.sorted = false
}

func init() {
	for _, s := range [...]sentinel{
		{"context.Canceled", context.Canceled},
		{"context.DeadlineExceeded", context.DeadlineExceeded},
		{"io.EOF", io.EOF},
		{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF},
		{"os.ErrNotExist", os.ErrNotExist},
		{"os.ErrExist", os.ErrExist},
		{"os.ErrPermission", os.ErrPermission},
		{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded},
	} {
		RegisterError(s.name, s.err)
	}
}

// sortedSentinels returns the sentinels in name order, so that replies are
// deterministic; the caller holds the registry's write lock.
func sortedSentinels() []sentinel {
	if !registry.sorted {
		slices.SortFunc(registry.sentinels, func(a, b sentinel) int { return strings.Compare(a.name, b.name) })
		registry.sorted = true
	}
	return registry.sentinels
}

// sentinelNames lists the registered sentinels err matches.
func sentinelNames(err error) []string {
	registry.Lock()
	defer registry.Unlock()
	var out []string
	for _, s := range sortedSentinels() {
		if errors.Is(err, s.err) {
			out = append(out, s.name)
		}
	}
	return out
}

// sentinelsNamed maps names back to this process's sentinels; a name it does
// not know (a binary mismatch) is dropped rather than invented.
func sentinelsNamed(names []string) []error {
	registry.RLock()
	defer registry.RUnlock()
	var out []error
	for _, name := range names {
		if s, ok := sentinelNamed(name); ok {
			out = append(out, s.err)
		}
	}
	return out
}

// sentinelNamed returns the sentinel registered under name; the caller
// holds the registry's lock.
func sentinelNamed(name string) (sentinel, bool) {
	for _, s := range registry.sentinels {
		if s.name == name {
			return s, true
		}
	}
	return sentinel{}, false
}

// registeredTwice is the panic of a name claimed twice: two packages
// claiming one name is a bug to fix at its source.
func registeredTwice(what, name string) string {
	return fmt.Sprintf("mp: %s %q registered twice: each needs its own name", what, name)
}
