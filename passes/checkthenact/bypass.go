package checkthenact

import (
	"fmt"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/internal/lockstate"
	"github.com/mprace/mprace/passes/internal/report"
	"github.com/mprace/mprace/passes/locks"
)

// A lock held from a check through its write makes them one step only for
// the goroutines that take that lock. When the package also writes the cell
// holding no lock at all (shutdown() { n.state.Swap(closed) } beside
// switchLocked's check and Store under n.mu), that write can land between
// the check and the write, and the Store overwrites it.

// unlockedWriters returns, for each field or package variable, the blind
// writes of it (a Store, a Swap, an Add: not decided by a read of the cell
// in their own function, which makes them check-then-acts or read-modify-
// writes of their own, judged there) that the package makes holding no lock.
// Writes that cannot race with a locked section are left out: those of
// package initialisation, of tests (they drive the code one step at a
// time), of functions named ...Locked (their callers hold the lock by
// convention), and of an object the function creates, before anyone else
// can see it.
func unlockedWriters(pass *analysis.Pass, res *cells.Result) map[types.Object][]*cells.Access {
	out := make(map[types.Object][]*cells.Access)
	for _, fn := range res.Order {
		if !mayRaceLocked(pass, fn) {
			continue
		}
		accs := res.Funcs[fn]
		for _, a := range accs {
			if (a.Op != catalog.Write && a.Op != catalog.Update) || a.Object == nil || a.Via != nil || a.Closure ||
				a.Fresh || a.SingleWriter || a.Claimed || a.SelfChecked || len(a.Locks.Held()) > 0 ||
				conditional(a) || readBack(a, accs) {
				continue
			}
			out[a.Object] = append(out[a.Object], a)
		}
	}
	return out
}

// conditional reports whether update u writes only when the cell holds
// what it expects (a CompareAndSwap, LoadOrStore...).
func conditional(u *cells.Access) bool {
	if u.Op != catalog.Update {
		return false
	}
	if strings.HasPrefix(u.Method, "CompareAndSwap") {
		return true
	}
	for _, m := range decidesItself {
		if strings.HasPrefix(u.Method, m) {
			return true
		}
	}
	return false
}

// readBack reports whether a read of w's cell in w's function flows into
// the value w writes.
func readBack(w *cells.Access, accs []*cells.Access) bool {
	for _, r := range accs {
		if r.Op == catalog.Read && r.Flow != nil && r.Cell.Key() == w.Cell.Key() && r.Flow.Meets(w.Stored...) {
			return true
		}
	}
	return false
}

// storedConst returns the constant a write or a Swap stores, or nil.
func storedConst(a *cells.Access) *ssa.Const {
	var v ssa.Value
	switch {
	case a.Op == catalog.Write && len(a.Stored) == 1:
		v = a.Stored[0]
	case a.Op == catalog.Update && strings.HasPrefix(a.Method, "Swap"):
		v = a.Call.Arg(0) // after the receiver, in both forms
	}
	if v == nil {
		return nil
	}
	c, _ := flow.Unchanged(v).(*ssa.Const)
	return c
}

// sameConst reports whether a and b store one same constant: then the
// locked write cannot undo the unlocked one.
func sameConst(a, b *cells.Access) bool {
	x, y := storedConst(a), storedConst(b)
	return x != nil && y != nil && x.Value != nil && y.Value != nil && x.Value.ExactString() == y.Value.ExactString()
}

// mayRaceLocked reports whether fn's unlocked writes can run beside another
// goroutine's critical section (see unlockedWriters).
func mayRaceLocked(pass *analysis.Pass, fn *ssa.Function) bool {
	root := fn
	for root.Parent() != nil {
		root = root.Parent()
	}
	if root.Synthetic != "" || root.Name() == "init" || strings.HasPrefix(root.Name(), "init#") {
		return false
	}
	if name := root.Name(); strings.HasSuffix(name, "Locked") && !strings.HasSuffix(name, "Unlocked") {
		return false
	}
	f := pass.Fset.File(fn.Pos())
	return f != nil && !strings.HasSuffix(f.Name(), "_test.go")
}

// bypassed returns a check of w's cell that decides w inside one exclusive
// critical section, and a write of the cell made elsewhere without any lock.
func bypassed(w *cells.Access, accs []*cells.Access, unlocked map[types.Object][]*cells.Access) (r, other *cells.Access, br flow.Branch, ok bool) {
	if w.Op != catalog.Write || w.Object == nil || w.Via != nil || w.Guard != nil || w.SingleWriter || w.Claimed ||
		dynamicIndex(w.Cell) {
		return nil, nil, flow.Branch{}, false
	}
	for _, u := range unlocked[w.Object] {
		if u.Instr != w.Instr && !sameConst(u, w) && !dynamicIndex(u.Cell) {
			other = u
			break
		}
	}
	if other == nil {
		return nil, nil, flow.Branch{}, false
	}
	for _, r := range accs {
		if r.Op != catalog.Read || r.Flow == nil || r.Own || r.SingleWriter || r.Cell.Key() != w.Cell.Key() ||
			r.Instr == w.Instr || r.Flow.Meets(w.Stored...) {
			continue
		}
		if _, held := locks.SharedExclusive(r.Locks, w.Locks); !held {
			continue
		}
		if brs := flow.Controls(w.Instr.Block(), r.Flow); len(brs) > 0 {
			return r, other, brs[0], true
		}
	}
	return nil, nil, flow.Branch{}, false
}

// dynamicIndex reports whether p goes through an element chosen by a
// computed index. The writers are matched by field, and two such elements
// are as likely two cells as one: a double buffer's hot and cold halves
// (s.counts[n>>63] written unlocked, s.counts[^n>>63] checked and reset
// under the lock once its writers have drained) share every field.
func dynamicIndex(p accesspath.Path) bool {
	for _, e := range p.Elems {
		if e.Kind == accesspath.ElemIndex && !e.ConstIndex() {
			return true
		}
	}
	return false
}

func reportBypassed(rep *report.Reporter, r, w, other *cells.Access, br flow.Branch) {
	cell := rep.CellName(w)
	lock := sharedLockName(r.Locks, w.Locks)
	cond := conditionNote(rep, r, w, br)
	msg := fmt.Sprintf("check-then-act on %s: written by %s at %s because of the value read by %s at %s%s, "+
		"both under %s, but %s writes it at %s (%s) holding no lock, so that write can land between the check "+
		"and the write, which then overwrites it; %s",
		cell, report.Op(w), rep.Where(w.Pos(), w.Pos()), report.Op(r), rep.Where(r.Pos(), w.Pos()), cond,
		lock, funcName(other.Instr.Parent()), rep.Where(other.Pos(), w.Pos()), report.Op(other), bypassRemedy(w, lock))
	pos, end := actRange(rep, w)
	rep.ReportRelated(pos, end, "checkthenact", msg, rep.Read(r, cell))
}

// sharedLockName names an exclusive acquisition held at both a and b,
// preferring a lock the function can name to "the caller's lock".
func sharedLockName(a, b *locks.Set) string {
	name := ""
	for _, h := range a.Held() {
		if !h.Exclusive {
			continue
		}
		for _, h2 := range b.Held() {
			if h2.Exclusive && h2.Acq == h.Acq && h2.Path.Key() == h.Path.Key() {
				if h.Path.Key() != lockstate.Caller.Key() {
					return h.Path.String()
				}
				name = h.Path.String()
			}
		}
	}
	return name
}

func bypassRemedy(w *cells.Access, lock string) string {
	take := "take " + lock + " for every write of it"
	if w.Call.Type != nil {
		if _, m, ok := catalog.Lookup(w.Call.Recv.Type(), "CompareAndSwap"); ok && m.Op == catalog.Update {
			return "decide with " + w.Cell.String() + ".CompareAndSwap(old, new), or " + take
		}
	}
	return take
}

// funcName names fn as its source declares it (T.m, f, or f's closure).
func funcName(fn *ssa.Function) string {
	if fn.Parent() != nil {
		return "a closure in " + funcName(fn.Parent())
	}
	if recv := fn.Signature.Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := t.(*types.Named); ok {
			return n.Obj().Name() + "." + fn.Name()
		}
	}
	return fn.Name()
}
