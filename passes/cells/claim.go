package cells

import (
	"go/token"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/locks"
)

// What makes a write safe, or someone else's to report, although a read of
// its cell decides it.

// rechecked reports whether write w is made under an exclusive lock
// acquisition under which the cell was read before the write: the cell was
// checked again inside the critical section (double-checked locking), so
// whatever was read before taking the lock did not decide the write alone.
func rechecked(w *Access, all []*Access) bool {
	for _, r := range all {
		if r.Op != catalog.Read || r == w || r.Cell.Key() != w.Cell.Key() {
			continue
		}
		if _, ok := locks.SharedExclusive(r.Locks, w.Locks); ok && flow.Before(r.Instr, w.Instr) {
			return true
		}
	}
	return false
}

// ownValue reports whether read r reads back the value its function has
// just written to the cell: a write of the cell (not an update) comes
// before it in its block with nothing in between that calls out or
// communicates (c.mcl = n; if c.mcl == 0 { c.mcl = max }). Another
// goroutine writing in between would race with that first write already;
// the read adds no decision of its own.
func ownValue(r *Access, all []*Access) bool {
	for _, w := range all {
		if w.Op != catalog.Write || w.Via != nil || w.Closure || w.Deferred || w.Cell.Key() != r.Cell.Key() ||
			w.Instr.Block() != r.Instr.Block() {
			continue
		}
		if quietBetween(w.Instr, r.Instr) {
			return true
		}
	}
	return false
}

// quietBetween reports whether a comes before b in their block with no
// call, channel operation or select between them.
func quietBetween(a, b ssa.Instruction) bool {
	seen := false
	for _, instr := range a.Block().Instrs {
		switch {
		case instr == a:
			seen = true
			continue
		case instr == b:
			return seen
		case !seen:
			continue
		}
		switch i := instr.(type) {
		case ssa.CallInstruction, *ssa.Send, *ssa.Select:
			return false
		case *ssa.UnOp:
			if i.Op == token.ARROW {
				return false
			}
		}
	}
	return false
}

// claimed reports whether write w is decided by the result of an atomic
// update of the same cell, such as a CompareAndSwap that claims the cell.
func claimed(w *Access, all []*Access) bool {
	for _, u := range all {
		if u.Op == catalog.Update && u.Flow != nil && u.Cell.Key() == w.Cell.Key() &&
			len(flow.Controls(w.Instr.Block(), u.Flow)) > 0 {
			return true
		}
	}
	return false
}

// selfChecked reports whether a read of w's cell in w's function decides
// whether w happens.
func selfChecked(w *Access, all []*Access) bool {
	for _, r := range all {
		if r.Op == catalog.Read && r != w && r.Flow != nil && r.Cell.Key() == w.Cell.Key() &&
			len(flow.Controls(w.Instr.Block(), r.Flow)) > 0 {
			return true
		}
	}
	return false
}

// lockClaimed reports whether w is decided by a claim: a check of a
// location, made inside an exclusive critical section that also writes that
// location (if s.closing { return }; s.closing = true under s.mu). Only one
// goroutine gets past a claim, so a check of w's cell made before it (double
// -checked locking on another, lock-guarded field) decides nothing alone,
// whether w is in that section, in a later one, or outside any.
func (c *collector) lockClaimed(w *Access) bool {
	fn := w.Instr.Parent()
	for _, b := range fn.Blocks {
		n := len(b.Instrs)
		if n == 0 {
			continue
		}
		iff, ok := b.Instrs[n-1].(*ssa.If)
		if !ok {
			continue
		}
		at := c.locks.At(iff)
		if !at.AnyExclusive() {
			continue
		}
		for _, br := range flow.Controls(w.Instr.Block(), flow.Set{iff.Cond: true}) {
			if br.If != iff {
				continue
			}
			// The claimant's way: the write of the location must follow
			// the check on the way that passes it, or the next goroutine
			// finds the location as the first one did.
			way := b.Succs[br.Succ]
			if len(way.Preds) != 1 {
				continue
			}
			for _, p := range readPaths(iff.Cond, 0) {
				if c.writtenUnder(fn, p.Key(), at, way) {
					return true
				}
			}
		}
	}
	return false
}

// tested reports whether the value an atomic update returns decides a
// branch: if x.Swap(closed) != closed { ... } is a test-and-set that admits
// one caller, like a CompareAndSwap, not an act decided by an older check.
func tested(u *Access) bool {
	if u.Op != catalog.Update || u.Flow == nil {
		return false
	}
	for v := range u.Flow {
		refs := v.Referrers()
		if refs == nil {
			continue
		}
		for _, r := range *refs {
			if _, ok := r.(*ssa.If); ok {
				return true
			}
		}
	}
	return false
}

// readPaths returns the locations a condition reads: loads of variables and
// fields, and reads of cells, through the operators that combine them.
func readPaths(v ssa.Value, depth int) []accesspath.Path {
	if depth > 6 {
		return nil
	}
	switch v := v.(type) {
	case *ssa.UnOp:
		if v.Op == token.MUL {
			if p, ok := accesspath.Of(v.X); ok {
				return []accesspath.Path{p}
			}
			return nil
		}
		return readPaths(v.X, depth+1)
	case *ssa.BinOp:
		return append(readPaths(v.X, depth+1), readPaths(v.Y, depth+1)...)
	case *ssa.Convert:
		return readPaths(v.X, depth+1)
	case *ssa.ChangeType:
		return readPaths(v.X, depth+1)
	case *ssa.Extract:
		return readPaths(v.Tuple, depth+1)
	case *ssa.Call:
		if call, ok := catalog.Classify(v.Common()); ok && call.M.Op == catalog.Read {
			if a := direct(v, call); a != nil {
				return []accesspath.Path{a.Cell}
			}
		}
	}
	return nil
}

// writtenUnder reports whether fn writes the location with key k (a store,
// or a write or update of a cell) inside the critical section of held, in a
// block that way dominates.
func (c *collector) writtenUnder(fn *ssa.Function, k string, held *locks.Set, way *ssa.BasicBlock) bool {
	for _, b := range fn.Blocks {
		if !way.Dominates(b) {
			continue
		}
		for _, instr := range b.Instrs {
			var p accesspath.Path
			switch i := instr.(type) {
			case *ssa.Store:
				q, ok := accesspath.Of(i.Addr)
				if !ok {
					continue
				}
				p = q
			case *ssa.Call:
				call, ok := catalog.Classify(i.Common())
				if !ok || (call.M.Op != catalog.Write && call.M.Op != catalog.Update) {
					continue
				}
				a := direct(i, call)
				if a == nil {
					continue
				}
				p = a.Cell
			default:
				continue
			}
			if p.Key() != k {
				continue
			}
			if _, ok := locks.SharedExclusive(c.locks.At(instr), held); ok {
				return true
			}
		}
	}
	return false
}
