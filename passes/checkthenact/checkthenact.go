package checkthenact

import (
	"fmt"
	"go/token"
	"strings"

	"golang.org/x/tools/go/ssa"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/internal/report"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer reports check-then-act races; see the package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "checkthenact",
	Doc:      "report a write of a shared cell decided by a read of it outside one critical section",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/checkthenact",
	Run:      run,
	Requires: []*analysis.Analyzer{cells.Analyzer},
}

func init() { report.DefineFlags(&Analyzer.Flags) }

func run(pass *analysis.Pass) (any, error) {
	res := pass.ResultOf[cells.Analyzer].(*cells.Result)
	rep := report.New(pass)
	unlocked := unlockedWriters(pass, res)
	for _, fn := range res.Order {
		accs := res.Funcs[fn]
		for _, w := range accs {
			if r, other, br, ok := bypassed(w, accs, unlocked); ok {
				reportBypassed(rep, r, w, other, br)
				continue
			}
			if !isAct(w) || w.Guarded || w.SingleWriter {
				continue
			}
			if r, br, ok := decidedBy(w, accs); ok && !cells.Validated(w, accs) {
				if w.Guard != nil {
					reportGuardedRace(rep, r, w, br)
				} else {
					reportRace(rep, r, w, br)
				}
			}
		}
	}
	return nil, nil
}

// isAct reports whether a changes its cell: a write, or an atomic update
// (Add, Swap, Or, Update...), which a stale check can decide as wrongly as a
// Store. A CompareAndSwap made by an accessor is taken to be the fix.
func isAct(a *cells.Access) bool {
	switch a.Op {
	case catalog.Write:
		return true
	case catalog.Update:
		for _, m := range decidesItself {
			if strings.HasPrefix(a.Method, m) {
				return false
			}
		}
		return a.Via == nil || !strings.HasPrefix(a.Method, "CompareAndSwap")
	}
	return false
}

// decidesItself are the atomic updates that check and act in one step
// whatever came before: a fast path checked before them decides nothing.
var decidesItself = []string{"LoadOrStore", "LoadAndDelete", "CompareAndDelete"}

// casFix reports whether w is a CompareAndSwap that expects the value r
// checked (computed from it, or the constant it was compared with): the
// check is then repeated atomically by the act itself.
func casFix(r, w *cells.Access) bool {
	if w.Op != catalog.Update || !strings.HasPrefix(w.Method, "CompareAndSwap") {
		return false
	}
	i := 0
	if w.Call.M.Index >= 0 {
		i = w.Call.M.Index + 1
	}
	exp := w.Call.Arg(i)
	if exp == nil {
		return false
	}
	_, isConst := flow.Unchanged(exp).(*ssa.Const)
	return isConst || r.Flow.Meets(exp, flow.Unchanged(exp))
}

// decidedBy returns a read of w's cell that decides whether w happens,
// outside one critical section with w.
func decidedBy(w *cells.Access, accs []*cells.Access) (*cells.Access, flow.Branch, bool) {
	for _, r := range accs {
		if r.Op != catalog.Read || r.Flow == nil || r.Cell.Key() != w.Cell.Key() || r.Instr == w.Instr ||
			r.SingleWriter || r.Own {
			continue // a callee that both reads and writes answers for itself
		}
		if r.Flow.Meets(w.Stored...) {
			return nil, flow.Branch{}, false // a read-modify-write: the other analyzer's report
		}
		if casFix(r, w) {
			continue
		}
		if _, ok := locks.SharedExclusive(r.Locks, w.Locks); ok || !cells.Judged(r, w) || cells.ClaimedBy(r, w, accs) {
			continue
		}
		if brs := flow.Controls(w.Instr.Block(), r.Flow); len(brs) > 0 {
			return r, brs[0], true
		}
	}
	return nil, flow.Branch{}, false
}

// conditionAt places the condition that decides w, for a report, when it
// is somewhere else than the read r it tests.
func conditionAt(rep *report.Reporter, r, w *cells.Access, br flow.Branch) (string, bool) {
	c := rep.Where(br.Pos(), w.Pos())
	return c, br.Pos().IsValid() && c != rep.Where(r.Pos(), w.Pos())
}

// conditionNote is conditionAt as a report's parenthesis, or "".
func conditionNote(rep *report.Reporter, r, w *cells.Access, br flow.Branch) string {
	if c, ok := conditionAt(rep, r, w, br); ok {
		return " (condition at " + c + ")"
	}
	return ""
}

func reportRace(rep *report.Reporter, r, w *cells.Access, br flow.Branch) {
	cell := rep.CellName(w)
	cond := conditionNote(rep, r, w, br)
	msg := fmt.Sprintf("check-then-act on %s: written by %s at %s because of the value read by %s at %s%s, "+
		"with no lock held from the check through the write, so two goroutines or "+
		"processes can both pass the check and both write; %s",
		cell, report.Op(w), rep.Where(w.Pos(), w.Pos()), report.Op(r), rep.Where(r.Pos(), w.Pos()),
		cond, remedy(w))
	pos, end := actRange(rep, w)
	rep.ReportRelated(pos, end, "checkthenact", msg, rep.Read(r, cell))
}

// actRange is the source range of the write: its whole call, if it is one.
func actRange(rep *report.Reporter, w *cells.Access) (token.Pos, token.Pos) {
	if call := rep.CallAt(w.Pos()); call != nil {
		return call.Pos(), call.End()
	}
	return w.Pos(), w.Pos()
}

func remedy(w *cells.Access) string {
	if w.Via == nil && w.Call.Key == "sync.Map" {
		return "use " + w.Cell.TrimLast().String() + ".LoadOrStore, which stores only when the key is absent, " +
			"or hold one lock across the check and the write"
	}
	if w.Via == nil && w.Call.Type != nil && w.Call.M.Index < 0 && w.Cell.String() != "" &&
		(w.Call.Key == catalog.MPPath+".Queue" || w.Call.Name == "Append" || w.Call.Name == "Pop") {
		return "act without the size check (TryGet and TryPut report whether they could), " +
			"or hold one lock across the check and the act"
	}
	if w.Via == nil && w.Call.Type != nil {
		if _, m, ok := catalog.Lookup(w.Call.Recv.Type(), "CompareAndSwap"); ok && m.Op == catalog.Update {
			cas := w.Cell.String() + ".CompareAndSwap(old, new)"
			if w.Call.M.Index >= 0 {
				elems := w.Cell.Elems
				idx := elems[len(elems)-1].Show
				cas = w.Cell.TrimLast().String() + ".CompareAndSwap(" + idx + ", old, new)"
			}
			return "decide with " + cas + " so the check and the write are one step, or hold one lock across both"
		}
	}
	return "hold one lock from the check through the write, or decide with a CompareAndSwap"
}
