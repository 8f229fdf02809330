package guards

import (
	"fmt"
	"strings"

	"github.com/mprace/mprace/passes/internal/accesspath"
)

// Guard is the fact exported for a struct field or package variable that a
// lock guards.
type Guard struct {
	// Lock is the guarding lock. A package-variable lock has a global
	// root. Otherwise the root stands for the address of the struct that
	// holds the field, Up levels of by-value nesting above it, and Elems
	// lead from there to the lock (mu: one field step).
	Lock accesspath.Path
	Up   int
	// Declared: a comment says so; otherwise every access shows it.
	Declared bool
}

// AFact marks Guard as an analysis fact.
func (*Guard) AFact() {}

func (g *Guard) String() string {
	how := "inferred"
	if g.Declared {
		how = "declared"
	}
	if g.Lock.RootKind == accesspath.RootGlobal {
		return fmt.Sprintf("guarded by %s (%s)", g.Lock.String(), how)
	}
	up := strings.Repeat("../", g.Up)
	q := g.Lock
	q.RootName = ""
	return fmt.Sprintf("guarded by %s%s (%s)", up, strings.TrimPrefix(q.String(), "."), how)
}

// key is equal for equal guards, whichever way they were found.
func (g *Guard) key() string { return fmt.Sprint(g.Up, g.Lock.Key()) }

// ownerRoot is the root of a guard's lock path that stands for the struct
// holding the field.
var ownerRoot = accesspath.Path{RootKind: accesspath.RootParam, RootID: "0", RootName: ""}

// At instantiates the guard's lock for a field whose struct is at owner (the
// path of the struct's address, as accesspath gives it), or returns the
// global lock. It reports false when owner is not nested deep enough by
// value.
func (g *Guard) At(owner accesspath.Path) (accesspath.Path, bool) {
	if g.Lock.RootKind == accesspath.RootGlobal {
		return g.Lock, true
	}
	base := owner
	for i := 0; i < g.Up; i++ {
		n := len(base.Elems)
		if n == 0 || base.Elems[n-1].Kind != accesspath.ElemField {
			return accesspath.Path{}, false
		}
		base = base.TrimLast()
	}
	return base.Append(g.Lock.Elems...), true
}
