// Package lockstate holds the state of locks at one program point: which
// locks are held, in which mode, by which acquisition. The locks pass
// computes it; the passes that judge accesses compare it. It lives below
// the passes so that shared internals (the record of a cell access, report
// wording) can hold it without importing a pass.
package lockstate

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
// published; operations return new sets (copy on write). The zero Set and
// the nil *Set hold nothing.
type Set struct {
	held     map[string]Held            // by path key and mode
	released map[string]accesspath.Path // released on every path, not retaken
}

// Caller stands for the exclusive locks a caller holds across a call that
// the callee cannot name: the callee runs inside that critical section
// until it releases a lock of its own (which may be the same one).
var Caller = accesspath.Path{RootKind: "c", RootID: "caller", RootName: "the caller's lock"}

// IsCallers reports whether h is the caller's lock that the function
// cannot name (see Caller).
func (h Held) IsCallers() bool { return h.Path.Key() == Caller.Key() }

// Key identifies a lock held in a mode.
func Key(p accesspath.Path, exclusive bool) string {
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

// Of returns the set holding exactly hs (a later entry for the same lock
// and mode replaces an earlier one).
func Of(hs []Held) *Set {
	n := &Set{held: make(map[string]Held, len(hs)), released: make(map[string]accesspath.Path)}
	for _, h := range hs {
		n.held[Key(h.Path, h.Exclusive)] = h
	}
	return n
}

// Acquire returns s with p held in the given mode by acquisition acq.
func (s *Set) Acquire(p accesspath.Path, exclusive bool, acq string) *Set {
	n := s.clone()
	n.held[Key(p, exclusive)] = Held{Path: p, Exclusive: exclusive, Acq: acq}
	delete(n.released, p.Key())
	return n
}

// Release returns s with p no longer held in the given mode. A lock this
// function did not take is recorded as released for its caller (an unlock
// helper).
func (s *Set) Release(p accesspath.Path, exclusive bool) *Set {
	n := s.clone()
	k := Key(p, exclusive)
	if exclusive {
		delete(n.held, Key(Caller, true))
	}
	if _, held := n.held[k]; held {
		delete(n.held, k)
	} else if exclusive {
		n.released[p.Key()] = p
	}
	return n
}

// Meet keeps what holds on both paths. A lock held on both paths through
// different acquisitions is still one continuous acquisition from here on;
// it gets the merge point's identity. A lock held exclusively on one path
// and shared on the other is held shared: a ...Locked helper that one
// caller enters under Lock and another under RLock runs under the read
// lock only, and its writes are judged so (not as unlocked, which would
// also make the field look unguarded to the whole package).
func Meet(a, b *Set, mergeID string) *Set {
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
			continue
		}
		if _, ok := b.held[Key(h.Path, !h.Exclusive)]; ok {
			sk := Key(h.Path, false)
			if _, both := n.held[sk]; !both {
				n.held[sk] = Held{Path: h.Path, Exclusive: false, Acq: mergeID + sk}
			}
		}
	}
	for k, p := range a.released {
		if _, ok := b.released[k]; ok {
			n.released[k] = p
		}
	}
	return n
}

// Equal reports whether a and b hold the same locks by the same
// acquisitions and have released the same ones.
func Equal(a, b *Set) bool {
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

// Empty reports whether no lock is held.
func (s *Set) Empty() bool { return s == nil || len(s.held) == 0 }

// Holds reports whether p is held in the given mode.
func (s *Set) Holds(p accesspath.Path, exclusive bool) bool {
	if s == nil {
		return false
	}
	_, ok := s.held[Key(p, exclusive)]
	return ok
}

// Released returns the locks released on every path and not retaken, in no
// particular order.
func (s *Set) Released() []accesspath.Path {
	if s == nil {
		return nil
	}
	out := make([]accesspath.Path, 0, len(s.released))
	for _, p := range s.released {
		out = append(out, p)
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
