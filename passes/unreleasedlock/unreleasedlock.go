package unreleasedlock

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/report"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer reports runtime/mp locks left held on some returns; see the
// package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "unreleasedlock",
	Doc:      "report a runtime/mp lock held at some returns of the function that took it and released at others",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/unreleasedlock",
	Run:      run,
	Requires: []*analysis.Analyzer{buildssa.Analyzer, locks.Analyzer},
}

// lockUse is what one function does with one runtime/mp lock.
type lockUse struct {
	path     accesspath.Path
	acquires []*ssa.CallCommon // Lock, TryLock, LockContext
	acqInstr []ssa.Instruction
	releases []ssa.Instruction // Unlock calls and defers
}

func run(pass *analysis.Pass) (any, error) {
	held := pass.ResultOf[locks.Analyzer].(*locks.Result)
	rep := report.New(pass)
	for _, fn := range locks.Funcs(pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)) {
		uses, keys := mpLocks(fn)
		if len(uses) == 0 {
			continue
		}
		rets := returns(fn)
		for _, k := range keys {
			u := uses[k]
			// A return counts as releasing the lock when it follows an
			// Unlock and the lock is not held there; returns before the
			// Lock, or after a failed TryLock, say nothing.
			afterRelease := reachable(u.releases)
			var heldAt, freeAt []*ssa.Return
			for _, r := range rets {
				switch {
				case holds(held.At(r), k):
					heldAt = append(heldAt, r)
				case afterRelease[r.Block()]:
					freeAt = append(freeAt, r)
				}
			}
			if len(heldAt) == 0 || len(freeAt) == 0 || conditionalHelper(fn, heldAt, freeAt) {
				continue
			}
			reportLeaks(rep, fn, u, heldAt)
		}
	}
	return nil, nil
}

// mpLocks returns the runtime/mp locks fn takes itself, by path key, with
// the keys in source order.
func mpLocks(fn *ssa.Function) (map[string]*lockUse, []string) {
	uses := make(map[string]*lockUse)
	var keys []string
	var releases []ssa.Instruction
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			cc := locks.InPlace(instr)
			if cc == nil {
				continue
			}
			c, ok := catalog.Classify(cc)
			if !ok || !strings.HasPrefix(c.Key, catalog.MPPath+".") {
				continue
			}
			switch c.M.Op {
			case catalog.Release:
				releases = append(releases, instr)
			case catalog.Acquire, catalog.TryAcquire:
				if _, isDefer := instr.(*ssa.Defer); isDefer {
					continue
				}
				p, ok := accesspath.Of(c.Recv)
				if !ok {
					continue
				}
				u := uses[p.Key()]
				if u == nil {
					u = &lockUse{path: p}
					uses[p.Key()] = u
					keys = append(keys, p.Key())
				}
				u.acquires = append(u.acquires, cc)
				u.acqInstr = append(u.acqInstr, instr)
			}
		}
	}
	for _, instr := range releases {
		cc := locks.InPlace(instr)
		c, _ := catalog.Classify(cc)
		if p, ok := accesspath.Of(c.Recv); ok && uses[p.Key()] != nil {
			uses[p.Key()].releases = append(uses[p.Key()].releases, instr)
		}
	}
	return uses, keys
}

func returns(fn *ssa.Function) []*ssa.Return {
	var out []*ssa.Return
	for _, b := range fn.Blocks {
		if r, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok {
			out = append(out, r)
		}
	}
	return out
}

// reachable returns the blocks reachable from instrs, theirs included.
func reachable(instrs []ssa.Instruction) map[*ssa.BasicBlock]bool {
	seen := make(map[*ssa.BasicBlock]bool)
	var work []*ssa.BasicBlock
	for _, i := range instrs {
		work = append(work, i.Block())
	}
	for len(work) > 0 {
		b := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[b] {
			continue
		}
		seen[b] = true
		work = append(work, b.Succs...)
	}
	return seen
}

func holds(st *locks.Set, key string) bool {
	for _, h := range st.Held() {
		if h.Exclusive && h.Path.Key() == key {
			return true
		}
	}
	return false
}

// conditionalHelper reports whether fn returns holding the lock exactly when
// it reports success: a nil error or true as its last error or bool result
// at every return that holds it, and never at the others.
func conditionalHelper(fn *ssa.Function, heldAt, freeAt []*ssa.Return) bool {
	res := fn.Signature.Results()
	idx := -1
	for i := res.Len() - 1; i >= 0 && idx < 0; i-- {
		switch t := res.At(i).Type(); {
		case isError(t), isBool(t):
			idx = i
		}
	}
	if idx < 0 {
		return false
	}
	for _, r := range heldAt {
		if !success(r.Results[idx]) {
			return false
		}
	}
	for _, r := range freeAt {
		if success(r.Results[idx]) {
			return false
		}
	}
	return true
}

func success(v ssa.Value) bool {
	c, ok := v.(*ssa.Const)
	if !ok {
		return false
	}
	if c.Value == nil {
		return isError(c.Type())
	}
	return c.Value.String() == "true"
}

func reportLeaks(rep *report.Reporter, fn *ssa.Function, u *lockUse, heldAt []*ssa.Return) {
	lock := rep.Receiver(u.acqInstr[0].Pos(), u.path)
	taken := lines(rep, u.acqInstr)
	released := lines(rep, u.releases)
	fixes := deferFix(rep, fn, u)
	for i, r := range heldAt {
		if i > 0 {
			fixes = nil // one fix for all the reports
		}
		pos := r.Pos()
		if !pos.IsValid() {
			pos = fn.Syntax().End() - 1
		}
		msg := fmt.Sprintf("%s is still held when %s returns here: it is taken at %s and released at %s on "+
			"other paths, so every process that waits for it blocks until this one exits; unlock it before "+
			"returning, or defer %s.Unlock() right after taking it", lock, funcName(fn), taken, released, lock)
		rep.Report(pos, pos, "unreleasedlock", msg, fixes...)
	}
}

func funcName(fn *ssa.Function) string {
	if fn.Parent() != nil {
		return "the function literal"
	}
	return fn.Name()
}

// lines words the positions of instrs as "line 12" or "lines 12 and 15".
func lines(rep *report.Reporter, instrs []ssa.Instruction) string {
	fset := rep.Pass().Fset
	seen := make(map[int]bool)
	var ls []int
	for _, i := range instrs {
		pos := i.Pos()
		if c := rep.CallAt(pos); c != nil {
			pos = c.Pos()
		}
		if l := fset.Position(pos).Line; !seen[l] {
			seen[l] = true
			ls = append(ls, l)
		}
	}
	sort.Ints(ls)
	word := "line "
	if len(ls) > 1 {
		word = "lines "
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprint(l)
	}
	switch len(parts) {
	case 1:
		return word + parts[0]
	default:
		return word + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
}
