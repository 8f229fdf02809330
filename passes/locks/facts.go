package locks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mprace/mprace/passes/internal/accesspath"
)

// LockRef names a lock in a Summary, relative to the summarised function's
// parameters (or a global).
type LockRef struct {
	Path      accesspath.Path
	Exclusive bool
}

// Summary is the fact exported for a function that leaves locks acquired or
// released for its caller.
type Summary struct {
	Acquires []LockRef
	Releases []LockRef
	// Calls lists the function-typed parameters the function calls
	// synchronously, with the locks it holds on every such call: a closure
	// passed there runs under them (func (s *S) locked(f func())).
	Calls []ParamCall
}

// ParamCall is a parameter called in place, and the locks held then.
type ParamCall struct {
	Param int
	Held  []LockRef
}

// AFact marks Summary as an analysis fact.
func (*Summary) AFact() {}

func (s *Summary) String() string {
	var parts []string
	for _, r := range s.Acquires {
		parts = append(parts, "acquires "+refString(r))
	}
	for _, r := range s.Releases {
		parts = append(parts, "releases "+refString(r))
	}
	for _, c := range s.Calls {
		held := make([]string, len(c.Held))
		for i, r := range c.Held {
			held[i] = refString(r)
		}
		parts = append(parts, fmt.Sprintf("calls param%d holding [%s]", c.Param, strings.Join(held, " ")))
	}
	return strings.Join(parts, ", ")
}

func refString(r LockRef) string {
	mode := ""
	if !r.Exclusive {
		mode = " (read)"
	}
	root := r.Path.RootName
	if r.Path.RootKind == accesspath.RootParam {
		root = "param" + r.Path.RootID
	}
	q := r.Path
	q.RootName = root
	return fmt.Sprintf("%s%s", q.String(), mode)
}

func (s *Summary) empty() bool {
	return len(s.Acquires) == 0 && len(s.Releases) == 0 && len(s.Calls) == 0
}

// changesLocks reports whether calling the function changes its caller's
// locks.
func (s *Summary) changesLocks() bool { return len(s.Acquires) > 0 || len(s.Releases) > 0 }

func (s *Summary) sort() {
	less := func(x []LockRef) func(i, j int) bool {
		return func(i, j int) bool { return x[i].Path.Key() < x[j].Path.Key() }
	}
	sort.Slice(s.Acquires, less(s.Acquires))
	sort.Slice(s.Releases, less(s.Releases))
}

// exportable keeps the parts of s that make sense outside the function's
// package: locks named through parameters or globals.
func (s *Summary) exportable() *Summary {
	out := &Summary{}
	keep := func(rs []LockRef) []LockRef {
		var k []LockRef
		for _, r := range rs {
			if r.Path.RootKind != accesspath.RootValue {
				k = append(k, r)
			}
		}
		return k
	}
	out.Acquires = keep(s.Acquires)
	out.Releases = keep(s.Releases)
	for _, c := range s.Calls {
		out.Calls = append(out.Calls, ParamCall{Param: c.Param, Held: keep(c.Held)})
	}
	return out
}
