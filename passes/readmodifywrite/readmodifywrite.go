package readmodifywrite

import (
	"fmt"
	"go/token"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/internal/report"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer reports non-atomic read-modify-write; see the package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "readmodifywrite",
	Doc:      "report read-modify-write of a shared cell that is not atomic",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/readmodifywrite",
	Run:      run,
	Requires: []*analysis.Analyzer{cells.Analyzer},
}

func init() { report.DefineFlags(&Analyzer.Flags) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[cells.Analyzer].(*cells.Result)
	rep := report.New(pass)
	res.EachWrite(func(w *cells.Access, accs []*cells.Access) {
		if w.SingleWriter {
			return
		}
		if r := lostUpdate(w, accs); r != nil {
			reportLost(rep, r, w)
		} else if r := capturedRead(w, res); r != nil {
			reportLost(rep, r, w)
		}
	})
	return nil, nil
}

// lostUpdate returns a read whose value flows into write w of the same cell
// outside one critical section, or nil.
func lostUpdate(w *cells.Access, accs []*cells.Access) *cells.Access {
	if w.Claimed {
		return nil // a CompareAndSwap of the cell decided the write: it claimed the cell
	}
	for _, r := range accs {
		if r.Op != catalog.Read || r.Flow == nil || r.Cell.Key() != w.Cell.Key() || r.Instr == w.Instr ||
			r.SingleWriter || r.Own {
			continue // a callee that both reads and writes answers for itself
		}
		if !r.Flow.Meets(w.Stored...) || restores(r, w) || !cells.Judged(r, w) {
			continue
		}
		if _, ok := locks.SharedExclusive(r.Locks, w.Locks); ok {
			continue
		}
		if cells.Validated(w, accs) {
			return nil
		}
		return r
	}
	return nil
}

func reportLost(rep *report.Reporter, r, w *cells.Access) {
	if w.Guard != nil {
		reportGuardedLost(rep, r, w)
		return
	}
	cell := rep.CellName(w)
	edit, fixed := fix(rep, r, w)
	remedy := rep.Remedy(w)
	if fixed {
		remedy = "use " + edit.Call + rep.OwnLock(w)
	}
	msg := fmt.Sprintf("non-atomic read-modify-write of %s: read by %s at %s and written by %s at %s "+
		"with no lock held from the read through the write, so an update made in between by another "+
		"goroutine or process is lost; %s",
		cell, report.Op(r), rep.Where(r.Pos(), w.Pos()), report.Op(w), rep.Where(w.Pos(), w.Pos()), remedy)
	var fixes []analysis.SuggestedFix
	if fixed {
		fixes = append(fixes, edit.Fix)
	}
	pos, end := w.Pos(), w.Pos()
	if call := rep.CallAt(w.Pos()); call != nil {
		pos, end = call.Pos(), call.End()
	}
	rep.ReportRelated(pos, end, "readmodifywrite", msg, rep.Read(r, cell), fixes...)
}

// fix offers Add for integer cells and Update for runtime/mp handles when
// the read is a direct call inside the written expression, and Update for a
// Dict or List element read by a Get statement just before the Set.
func fix(rep *report.Reporter, r, w *cells.Access) (report.Edit, bool) {
	if r.Via != nil || w.Via != nil || w.Deferred || r.Closure || w.Closure || r.Call.Bound || w.Call.Bound ||
		r.Call.Name == "" || w.Call.Name == "" {
		return report.Edit{}, false
	}
	wc, rc := rep.CallAt(w.Pos()), rep.CallAt(r.Pos())
	if wc == nil || rc == nil {
		return report.Edit{}, false
	}
	if rc.End() < wc.Pos() && w.Call.Type != nil && w.Call.Type.Updater && w.Call.M.Index >= 0 {
		// The read is a statement of its own (v, _, _ := d.Get(k)).
		return rep.GetSetFix(wc, rc)
	}
	if len(w.Stored) != 1 {
		return report.Edit{}, false
	}
	t := w.Stored[0].Type()
	isInt, signed := report.Integer(t)
	indexed := w.Call.M.Index >= 0
	if w.Call.Func {
		if _, ok := catalog.IntegerFunc(w.Call.Name); ok && isInt {
			return rep.AddFix(wc, rc, true, false, signed)
		}
		return report.Edit{}, false
	}
	ty := w.Call.Type
	if ty == nil {
		return report.Edit{}, false
	}
	if ty.Integer && isInt {
		if e, ok := rep.AddFix(wc, rc, false, indexed, signed); ok {
			return e, true
		}
	}
	if ty.Updater {
		if elem, ok := rep.Spell(t, wc.Pos()); ok {
			return rep.UpdateFix(wc, rc, indexed, elem)
		}
	}
	return report.Edit{}, false
}

// restores reports whether w writes back exactly the value r read (save and
// restore, as in defer SetFlags(Flags())): nothing is modified, so nothing
// is lost that the read-modify-write rule is about.
func restores(r, w *cells.Access) bool {
	if !r.Exact {
		return false
	}
	for _, v := range w.Stored {
		if !isValueRead(flow.Unchanged(v), r) {
			return false
		}
	}
	return len(w.Stored) > 0
}

// isValueRead reports whether v is the value r read: the read itself, or
// the value of a read that also returns whether it found one
// (v, ok := m.Load(k)).
func isValueRead(v ssa.Value, r *cells.Access) bool {
	read := flow.Unchanged(r.Value)
	if v == read {
		return true
	}
	e, ok := v.(*ssa.Extract)
	return ok && e.Index == 0 && e.Tuple == read
}

// capturedRead finds a read in an enclosing function whose value a closure
// captures and writes back: x := c.Load(); go func() { c.Store(x + 1) }().
func capturedRead(w *cells.Access, res *cells.Result) *cells.Access {
	if w.Claimed {
		return nil
	}
	fn := w.Instr.Parent()
	for _, fv := range fn.FreeVars {
		if !flow.Forward(fv).Meets(w.Stored...) {
			continue
		}
		var val ssa.Value = fv
		for anc := fn.Parent(); anc != nil; anc = anc.Parent() {
			f, ok := val.(*ssa.FreeVar)
			if !ok {
				break
			}
			if val = accesspath.Binding(f); val == nil {
				break
			}
			for _, r := range res.Funcs[anc] {
				if r.Op == catalog.Read && !r.Own && r.Flow != nil && r.Flow[val] && r.Cell.Key() == w.Cell.Key() &&
					!restoresCaptured(r, w, fv, val) && cells.Judged(r, w) {
					if _, ok := locks.SharedExclusive(r.Locks, w.Locks); !ok {
						return r
					}
				}
			}
		}
	}
	return nil
}

// restoresCaptured is restores for a closure that writes back, unchanged,
// the value its enclosing function read: defer func() { SetFlags(flags) }().
// Closures capture variables by reference: the bound value is then the
// variable, and it must hold nothing but the value read.
func restoresCaptured(r, w *cells.Access, fv *ssa.FreeVar, bound ssa.Value) bool {
	if !r.Exact || !holdsOnly(bound, r) {
		return false
	}
	for _, ref := range *fv.Referrers() {
		if st, ok := ref.(*ssa.Store); ok && st.Addr == fv {
			return false // the closure assigns the variable: x *= 2
		}
	}
	for _, v := range w.Stored {
		u := flow.Unchanged(v)
		if load, ok := u.(*ssa.UnOp); ok && load.Op == token.MUL {
			u = load.X
		}
		if u != fv {
			return false
		}
	}
	return len(w.Stored) > 0
}

// holdsOnly reports whether v is the value r read, or a variable whose
// every assignment stores it.
func holdsOnly(v ssa.Value, r *cells.Access) bool {
	alloc, ok := v.(*ssa.Alloc)
	if !ok {
		return isValueRead(flow.Unchanged(v), r)
	}
	stores := 0
	for _, ref := range *alloc.Referrers() {
		if st, ok := ref.(*ssa.Store); ok && st.Addr == alloc {
			if !isValueRead(flow.Unchanged(st.Val), r) {
				return false
			}
			stores++
		}
	}
	return stores > 0
}
