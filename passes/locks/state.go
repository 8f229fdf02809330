package locks

import (
	"maps"

	"github.com/mprace/mprace/passes/internal/accesspath"
)

// Held is one lock known to be held.
type Held struct {
	Path      accesspath.Path
	Exclusive bool
	// Acq identifies the acquisition: two accesses are in one critical
	// section only if they see the same Acq.
	Acq string
}

// Set is the state of locks at one program point. Sets are immutable once
// published; operations return new sets (copy on write).
type Set struct {
	held     map[string]Held            // by path key and mode
	released map[string]accesspath.Path // released on every path, not retaken
}

// callerLock stands for the exclusive locks a caller holds across a call
// that the callee cannot name: the callee runs inside that critical section
// until it releases a lock of its own (which may be the same one).
var callerLock = accesspath.Path{RootKind: "c", RootID: "caller", RootName: "the caller's lock"}

// IsCallers reports whether h is the caller's lock that the function cannot
// name (see callerLock).
func (h Held) IsCallers() bool { return h.Path.Key() == callerLock.Key() }

func heldKey(p accesspath.Path, exclusive bool) string {
	if exclusive {
		return "x" + p.Key()
	}
	return "s" + p.Key()
}

func (s *Set) clone() *Set {
	n := &Set{held: make(map[string]Held), released: make(map[string]accesspath.Path)}
	if s != nil {
		maps.Copy(n.held, s.held)
		maps.Copy(n.released, s.released)
	}
	return n
}

func (s *Set) acquire(p accesspath.Path, exclusive bool, acq string) *Set {
	n := s.clone()
	n.held[heldKey(p, exclusive)] = Held{Path: p, Exclusive: exclusive, Acq: acq}
	delete(n.released, p.Key())
	return n
}

// release drops a held lock. A lock this function did not take is recorded
// as released for its caller (an unlock helper).
func (s *Set) release(p accesspath.Path, exclusive bool) *Set {
	n := s.clone()
	k := heldKey(p, exclusive)
	if exclusive {
		delete(n.held, heldKey(callerLock, true))
	}
	if _, held := n.held[k]; held {
		delete(n.held, k)
	} else if exclusive {
		n.released[p.Key()] = p
	}
	return n
}

// meet keeps what holds on both paths. A lock held on both paths through
// different acquisitions is still one continuous acquisition from here on;
// it gets the merge point's identity.
func meet(a, b *Set, mergeID string) *Set {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	n := &Set{held: make(map[string]Held), released: make(map[string]accesspath.Path)}
	for k, h := range a.held {
		if h2, ok := b.held[k]; ok {
			if h2.Acq != h.Acq {
				h.Acq = mergeID + k
			}
			n.held[k] = h
		}
	}
	for k, p := range a.released {
		if _, ok := b.released[k]; ok {
			n.released[k] = p
		}
	}
	return n
}

func equal(a, b *Set) bool {
	if a == nil || b == nil {
		return a == b
	}
	return maps.EqualFunc(a.held, b.held, func(x, y Held) bool {
		return x.Acq == y.Acq && x.Exclusive == y.Exclusive
	}) && len(a.released) == len(b.released) && func() bool {
		for k := range a.released {
			if _, ok := b.released[k]; !ok {
				return false
			}
		}
		return true
	}()
}

// Held returns the locks held, in no particular order.
func (s *Set) Held() []Held {
	if s == nil {
		return nil
	}
	out := make([]Held, 0, len(s.held))
	for _, h := range s.held {
		out = append(out, h)
	}
	return out
}

// SharedExclusive returns an exclusive lock acquisition held at both a and b,
// if there is one: the two points are then inside one critical section.
func SharedExclusive(a, b *Set) (Held, bool) {
	if a == nil || b == nil {
		return Held{}, false
	}
	for k, h := range a.held {
		if !h.Exclusive {
			continue
		}
		if h2, ok := b.held[k]; ok && h2.Acq == h.Acq {
			return h, true
		}
	}
	return Held{}, false
}

// AnyExclusive reports whether some exclusive lock is held.
func (s *Set) AnyExclusive() bool {
	if s == nil {
		return false
	}
	for _, h := range s.held {
		if h.Exclusive {
			return true
		}
	}
	return false
}
