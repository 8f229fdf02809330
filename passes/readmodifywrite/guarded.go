package readmodifywrite

import (
	"fmt"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/report"
)

// reportGuardedLost reports a lost update of a field or variable a lock
// guards: read and written in two critical sections of the lock, or in one
// that holds it only for reading.
func reportGuardedLost(rep *report.Reporter, r, w *cells.Access) {
	cell, lock := rep.GuardedCell(w), rep.GuardName(w)
	var msg string
	var fixes []analysis.SuggestedFix
	if _, ok := cells.ReadLocked(r, w); ok {
		msg = fmt.Sprintf("non-atomic read-modify-write of %s under only the read lock of %s: %s and %s "+
			"while holding %s.RLock() (%s), which other readers hold at the same time, so two of them can read "+
			"the same value and one update is lost; take %s.Lock() instead of RLock() for this section",
			cell, lock, rep.GuardedOp(r, w), rep.GuardedOp(w, w), lock, rep.Section(r, w), lock)
		if fix, ok := rep.ReadLockFix(w); ok {
			fixes = append(fixes, fix)
		}
	} else {
		msg = fmt.Sprintf("non-atomic read-modify-write of %s, which %s guards: %s (%s) and %s (%s), two "+
			"critical sections of %s, so an update made in between by another goroutine is lost; hold %s "+
			"from the read through the write%s",
			cell, lock, rep.GuardedOp(r, w), rep.Section(r, w), rep.GuardedOp(w, w), rep.Section(w, w),
			lock, lock, accessorAdvice(r, w))
		if fix, ok := rep.MergeFix(r, w); ok {
			fixes = append(fixes, fix)
		}
	}
	pos, end := rep.AccessRange(w)
	rep.Report(pos, end, "readmodifywrite", msg, fixes...)
}

// accessorAdvice adds, when the critical sections are a getter's and a
// setter's, that one method should do both under one acquisition.
func accessorAdvice(r, w *cells.Access) string {
	if (r.Via != nil && r.Guard.Inner != cells.NotHeld) || (w.Via != nil && w.Guard.Inner != cells.NotHeld) {
		return " (one method that takes it once and does both, since the accessors each take it)"
	}
	return ""
}
