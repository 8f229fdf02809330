package checkthenact

import (
	"fmt"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/internal/report"
)

// reportGuardedRace reports a check-then-act on a field or variable a lock
// guards: checked and written in two critical sections of the lock, or in
// one that holds it only for reading.
// A write of a value received after the check is decided by the message
// (cells.Received): not reported.
func reportGuardedRace(rep *report.Reporter, r, w *cells.Access, br flow.Branch) {
	if cells.Received(r, w) {
		return
	}
	cell, lock := rep.GuardedCell(w), rep.GuardName(w)
	cond := ""
	if c, ok := conditionAt(rep, r, w, br); ok {
		cond = "; condition at " + c
	}
	var msg string
	var fixes []analysis.SuggestedFix
	if _, ok := cells.ReadLocked(r, w); ok {
		msg = fmt.Sprintf("check-then-act on %s under only the read lock of %s: %s because of the value %s, "+
			"both while holding %s.RLock() (%s%s), which other readers hold at the same time, so two of them "+
			"can both pass the check and both write; take %s.Lock() instead of RLock(), or check again after taking it",
			cell, lock, rep.GuardedOp(w, w), rep.GuardedOp(r, w), lock, rep.Section(r, w), cond, lock)
		if fix, ok := rep.ReadLockFix(w); ok {
			fixes = append(fixes, fix)
		}
	} else {
		rs, ws := rep.Sections(r, w)
		msg = fmt.Sprintf("check-then-act on %s, which %s guards: %s (%s) because of the value %s (%s%s), "+
			"two critical sections of %s, so two goroutines can both pass the check and both write; hold %s "+
			"from the check through the write, or check again under it before writing",
			cell, lock, rep.GuardedOp(w, w), ws, rep.GuardedOp(r, w), rs, cond,
			lock, lock)
		if fix, ok := rep.MergeFix(r, w); ok {
			fixes = append(fixes, fix)
		}
	}
	pos, end := rep.AccessRange(w)
	rep.Report(pos, end, "checkthenact", msg, fixes...)
}
