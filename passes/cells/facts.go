package cells

import (
	"fmt"
	"strings"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
)

// Accessor is the fact exported for a function that reads or writes cells on
// its caller's behalf.
type Accessor struct {
	Accesses []Summary
}

// Summary is one access an accessor makes, in terms of its parameters
// (receiver first) or of globals.
type Summary struct {
	Op   catalog.Op
	Cell accesspath.Path
	// Result is the index of the result that carries the value read, for
	// reads (and the old value, for updates that return it); -1 when the
	// value does not leave the function.
	Result int
	// Exact: the result is the value read itself, not computed from it.
	Exact bool
	// Params are the indexes of the parameters the written value is
	// computed from, for writes.
	Params []int
	// Method is the cell operation underneath (Load, Store, Set...).
	Method string
	// Guarded: the write is decided under a lock by a check of the cell
	// under that same lock (double-checked locking), or by a successful
	// CompareAndSwap of the cell (the CAS claimed it).
	Guarded bool
	// SingleWriter: the cell is declared single-writer.
	SingleWriter bool
	// Depth counts the accessors between the function and the cell
	// operation (0: the function calls it itself).
	Depth int
	// Guard is set when the cell is a field or variable a lock guards.
	Guard *GuardSummary
}

// AFact marks Accessor as an analysis fact.
func (*Accessor) AFact() {}

func (a *Accessor) String() string {
	var parts []string
	for _, s := range a.Accesses {
		q := s.Cell
		if q.RootKind == accesspath.RootParam {
			q.RootName = "param" + q.RootID
		}
		part := fmt.Sprintf("%s %s", s.Op, q.String())
		if s.Op == catalog.Read && s.Result >= 0 {
			part += fmt.Sprintf(" -> result%d", s.Result)
		}
		if len(s.Params) > 0 {
			part += fmt.Sprintf(" <- params%v", s.Params)
		}
		if s.Guarded {
			part += " (guarded)"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}
