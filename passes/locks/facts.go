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

func (s *Summary) empty() bool { return len(s.Acquires) == 0 && len(s.Releases) == 0 }

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
	return out
}
