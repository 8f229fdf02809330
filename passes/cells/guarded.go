package cells

import (
	"go/token"
	"strings"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/guards"
	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/cell"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/locks"
)

// Guarded fields and package variables (see passes/guards) are cells too:
// their loads are reads and their stores writes. The rules judge them only
// between critical sections of their guarding lock: a read and a write that
// each hold it (in either mode), in two critical sections or in one shared
// (read-locked) section. Accesses without the lock are another tool's
// business (the race detector's, checklocks'), and writes before the value
// is shared are not accesses of a shared cell at all.

// Mode is how the guarding lock is held at an access.
type Mode = cell.Mode

const (
	NotHeld       = cell.NotHeld
	HeldShared    = cell.HeldShared
	HeldExclusive = cell.HeldExclusive
)

// Guarding is the guard of an access to a guarded field or variable.
type Guarding = cell.Guarding

// GuardSummary is the guard of an access an accessor makes, in a fact.
type GuardSummary struct {
	// Lock is relative to the accessor's parameters, or a global; zero
	// when neither.
	Lock     accesspath.Path
	Declared bool
	// Held is how the accessor holds the lock at the access.
	Held Mode
}

// guardedAccesses makes the reads and writes of guarded fields and package
// variables in fn.
func (c *collector) guardedAccesses(fn *ssa.Function) []*Access {
	var out []*Access
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			ga, ok := guards.AccessOf(instr)
			var el guards.Element
			if !ok {
				el, ga, ok = guards.ElementOf(instr)
			}
			if !ok || guards.Fresh(ga.Addr) {
				continue
			}
			g := c.guards.Of(ga.Var)
			if g == nil {
				continue
			}
			lock, ok := g.At(ga.Owner)
			if !ok {
				continue
			}
			cell, ok := accesspath.Of(ga.Addr)
			if !ok {
				continue
			}
			a := &Access{Op: catalog.Read, Cell: cell, Instr: instr, Method: "read",
				Guard: &Guarding{Lock: lock, Declared: g.Declared}, SingleWriter: c.singleWriter(ga.Var)}
			switch {
			case el.Key != nil:
				a.Cell = cell.Append(accesspath.IndexElem(el.Key))
				if el.Write {
					a.Op, a.Method, a.Stored = catalog.Write, "write", []ssa.Value{el.Stored}
				} else {
					a.Value, a.Exact = instr.(ssa.Value), !el.CommaOk
				}
			case ga.Write:
				a.Op, a.Method, a.Stored = catalog.Write, "write", []ssa.Value{instr.(*ssa.Store).Val}
			default:
				a.Value, a.Exact = instr.(*ssa.UnOp), true
			}
			out = append(out, a)
		}
	}
	return out
}

// dropUnshared removes the guarded accesses of fn made to an object fn
// itself creates (a composite literal, new, or a constructor NewX()) when fn
// starts no goroutine: such an object is not shared yet, whichever
// accessors fn calls on it (fset := token.NewFileSet(); fset.AddFile(name,
// fset.Base(), n)). Tests (functions of _test.go files) drive the code one
// step at a time and look at guarded state between steps: their guarded
// accesses are all removed.
func (c *collector) dropUnshared(fn *ssa.Function, accs []*Access) []*Access {
	if f := c.pass.Fset.File(fn.Pos()); f != nil && strings.HasSuffix(f.Name(), "_test.go") {
		return keep(accs, func(a *Access) bool { return a.Guard == nil })
	}
	created, made := freshRoots(fn, c.returnsFresh)
	in := func(roots map[string]bool, a *Access) bool {
		// A cell reached by loading a local variable (s.f, s a parameter
		// a closure captures) is in whatever object the variable holds,
		// not in the variable's own memory.
		return roots[a.Cell.RootKind+":"+a.Cell.RootID] &&
			!(len(a.Cell.Elems) > 0 && a.Cell.Elems[0].Kind == accesspath.ElemDeref)
	}
	for _, a := range accs {
		a.Fresh = in(created, a) || in(made, a)
	}
	if len(created) == 0 || startsGoroutine(fn) {
		return accs
	}
	return keep(accs, func(a *Access) bool { return a.Guard == nil || !in(created, a) })
}

// freshRoots returns the root keys of the objects fn creates: created by a
// composite literal, new or a constructor NewX(), and made by a call of a
// function for which made reports a fresh result.
func freshRoots(fn *ssa.Function, made func(*ssa.Function) bool) (created, byCall map[string]bool) {
	created, byCall = make(map[string]bool), make(map[string]bool)
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch i := instr.(type) {
			case *ssa.Alloc:
				created[rootKey(i)] = true
			case *ssa.Call:
				callee := i.Call.StaticCallee()
				if callee == nil {
					continue
				}
				if isConstructor(callee.Name()) {
					created[rootKey(i)] = true
				} else if made(callee) {
					byCall[rootKey(i)] = true
					for _, r := range *i.Referrers() {
						if e, ok := r.(*ssa.Extract); ok && e.Index == 0 {
							byCall[rootKey(e)] = true
						}
					}
				}
			}
		}
	}
	return created, byCall
}

func keep(accs []*Access, ok func(*Access) bool) []*Access {
	out := accs[:0]
	for _, a := range accs {
		if ok(a) {
			out = append(out, a)
		}
	}
	return out
}

func rootKey(v ssa.Value) string {
	p, ok := accesspath.Of(v)
	if !ok {
		return ""
	}
	return p.RootKind + ":" + p.RootID
}

func isConstructor(name string) bool {
	return strings.HasPrefix(name, "New") || strings.HasPrefix(name, "new")
}

// Judged reports whether the rules judge read r and write w of one cell
// together: not when the variable their cell is reached through is assigned
// again on every way from r to w (see reassigned); then always for other
// cells; for a guarded cell, only when both hold its guarding lock, and not
// when w is an accessor that reads the cell again under the lock and decides
// the write from that (a.Withdraw(a.Balance()): the value passed is an
// amount, checked against the current balance).
func Judged(r, w *Access) bool {
	if reassigned(r, w) {
		return false
	}
	if r.Guard == nil && w.Guard == nil {
		return true
	}
	if w.Via != nil && w.Guarded {
		return false
	}
	return r.HeldMode() != NotHeld && w.HeldMode() != NotHeld
}

// reassigned reports whether the local variable that the cell of r and w is
// reached through (s.sa, with s captured by a closure and so kept in memory)
// is assigned again on every way from r to w: the path names one variable,
// but the write is to the object assigned last (s = lookup();
// s.setAssignment(sa)), not to the one read.
func reassigned(r, w *Access) bool {
	if r.Cell.RootKind != accesspath.RootValue || len(r.Cell.Elems) == 0 ||
		r.Cell.Elems[0].Kind != accesspath.ElemDeref {
		return false
	}
	fn := r.Instr.Parent()
	if fn != w.Instr.Parent() {
		return false
	}
	var v *ssa.Alloc // among the instructions: fn.Locals lacks those on the heap
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			if l, ok := instr.(*ssa.Alloc); ok && v == nil {
				if p, ok := accesspath.Of(l); ok && p.RootID == r.Cell.RootID {
					v = l
				}
			}
		}
	}
	if v == nil {
		return false
	}
	reached := false
	flow.Reach(r.Instr, func(instr ssa.Instruction) bool {
		if instr == w.Instr {
			reached = true
			return false
		}
		st, ok := instr.(*ssa.Store)
		return !ok || st.Addr != v
	})
	return !reached
}

// Received reports whether guarded write w stores a value received from a
// channel after read r: the write publishes what the message says, and the
// check only chose to wait for it (a loop that goes to its select when it has
// nothing to do, and records the interest a message brings).
func Received(r, w *Access) bool {
	fn := w.Instr.Parent()
	if w.Guard == nil || len(w.Stored) == 0 || fn != r.Instr.Parent() {
		return false
	}
	found := false
	flow.Reach(r.Instr, func(instr ssa.Instruction) bool {
		if instr == w.Instr {
			return false
		}
		var got ssa.Value
		switch i := instr.(type) {
		case *ssa.UnOp:
			if i.Op == token.ARROW {
				got = i
			}
		case *ssa.Select:
			if i.Blocking {
				got = i
			}
		}
		if got != nil && !found {
			found = flow.Forward(got).Meets(w.Stored...)
		}
		return !found
	})
	return found
}

// ClaimedBy reports whether guarded read r is followed, in its own exclusive
// critical section of the guard, by a write of the cell other than w: the
// check and that write claimed the cell in one step (if o.writing { return };
// o.writing = true), and a later write by the claimant (o.writing = false)
// is not decided by a stale read.
func ClaimedBy(r, w *Access, accs []*Access) bool {
	if r.Guard == nil {
		return false
	}
	for _, w0 := range accs {
		if w0 == w || w0.Op != catalog.Write || w0.Cell.Key() != r.Cell.Key() {
			continue
		}
		if _, ok := locks.SharedExclusive(r.Locks, w0.Locks); ok && flow.Before(r.Instr, w0.Instr) {
			return true
		}
	}
	return false
}

// ReadLocked returns the read lock of a guarded cell's guard when r and w are
// in one critical section of it that holds it only for reading: other
// readers are inside at the same time.
func ReadLocked(r, w *Access) (locks.Held, bool) {
	if w.Guard == nil || w.Guard.Lock.IsZero() {
		return locks.Held{}, false
	}
	key := w.Guard.Lock.Key()
	for _, h := range r.Locks.Held() {
		if h.Exclusive || h.Path.Key() != key {
			continue
		}
		for _, h2 := range w.Locks.Held() {
			if !h2.Exclusive && h2.Path.Key() == key && h2.Acq == h.Acq {
				return h, true
			}
		}
	}
	return locks.Held{}, false
}

// Validated reports whether guarded write w happens only after a check,
// inside w's critical section of the guard, that compares a value read there
// with one read before the section: an optimistic read validated under the
// lock (a version number, or the cell itself, read again and compared), so a
// stale read makes w not happen.
func Validated(w *Access, accs []*Access) bool {
	if w.Guard == nil || w.Guard.Lock.IsZero() {
		return false
	}
	key := w.Guard.Lock.Key()
	for _, r2 := range accs {
		if r2.Op != catalog.Read || r2.Flow == nil || r2.Guard == nil || r2.Guard.Lock.Key() != key {
			continue
		}
		h, ok := locks.SharedExclusive(r2.Locks, w.Locks)
		if !ok || h.Path.Key() != key || !flow.Before(r2.Instr, w.Instr) {
			continue
		}
		for _, br := range flow.Controls(w.Instr.Block(), r2.Flow) {
			for _, r3 := range accs {
				if r3 == r2 || r3.Op != catalog.Read || r3.Flow == nil || r3.Cell.Key() != r2.Cell.Key() ||
					!r3.Flow[br.If.Cond] {
					continue
				}
				if _, same := locks.SharedExclusive(r3.Locks, w.Locks); !same {
					return true
				}
			}
		}
	}
	return false
}

// guardSummary is the guard of a in the terms of fn's parameters, for a
// fact.
func guardSummary(a *Access, fn *ssa.Function) *GuardSummary {
	g := a.Guard
	if g == nil {
		return nil
	}
	s := &GuardSummary{Declared: g.Declared, Held: a.HeldMode()}
	if p, ok := accesspath.Relative(g.Lock, fn); ok {
		s.Lock = p
	}
	return s
}

// in is the guard of an accessor's access at a call with args.
func (s *GuardSummary) in(args []ssa.Value) *Guarding {
	if s == nil {
		return nil
	}
	g := &Guarding{Declared: s.Declared, Inner: s.Held}
	if !s.Lock.IsZero() {
		if p, ok := accesspath.Substitute(s.Lock, args); ok {
			g.Lock = p
		}
	}
	return g
}
