package locks

import (
	"go/ast"
	"strings"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/lockstate"
)

// privateCallees returns the unexported top-level functions and methods of
// funcs that are only ever called directly (every caller is in this
// package and visible, so their locks are known at every entry), each with
// its call sites.
func privateCallees(funcs []*ssa.Function) map[*ssa.Function][]ssa.Instruction {
	out := make(map[*ssa.Function][]ssa.Instruction)
	for _, fn := range funcs {
		if fn.Parent() == nil && fn.Object() != nil && !ast.IsExported(fn.Name()) && fn.Name() != "init" {
			out[fn] = nil
		}
	}
	escaped := make(map[*ssa.Function]bool)
	// A function used as a value (stored, passed, a method value) may be
	// called from anywhere.
	for _, fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				var skip ssa.Value
				if cc := inPlace(instr); cc != nil && !cc.IsInvoke() {
					skip = cc.Value
					if f, ok := skip.(*ssa.Function); ok {
						if sites, private := out[f]; private {
							out[f] = append(sites, instr)
						}
					}
				}
				for _, op := range instr.Operands(nil) {
					if f, ok := (*op).(*ssa.Function); ok && f != skip {
						escaped[f] = true
					}
				}
			}
		}
	}
	for f := range escaped {
		delete(out, f)
	}
	return out
}

// entrySite is an instruction that enters a function in place: a direct
// call of an unexported function, or a call, defer or hand-over of a
// closure in its enclosing function.
type entrySite struct {
	instr   ssa.Instruction
	closure bool // the closure shares its parent's paths
}

// entrySites returns the functions of order entered only in place, with
// the instructions that enter them.
func entrySites(order []*ssa.Function) map[*ssa.Function][]entrySite {
	out := make(map[*ssa.Function][]entrySite)
	for fn, instrs := range privateCallees(order) {
		instrs = outsideTests(instrs)
		if len(instrs) == 0 {
			continue // never called here: entered from outside, with nothing held
		}
		sites := make([]entrySite, len(instrs))
		for i, instr := range instrs {
			sites[i] = entrySite{instr: instr}
		}
		out[fn] = sites
	}
	for _, fn := range order {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				cc := inPlace(instr)
				if cc == nil || cc.IsInvoke() {
					continue
				}
				vals := append([]ssa.Value{cc.Value}, cc.Args...)
				for _, v := range vals {
					if mc, ok := v.(*ssa.MakeClosure); ok {
						v = mc.Fn
					}
					if f, ok := v.(*ssa.Function); ok && f.Parent() == fn {
						out[f] = append(out[f], entrySite{instr: instr, closure: true})
					}
				}
			}
		}
	}
	return out
}

// outsideTests drops the call sites in _test.go files when there are
// others: tests drive internals single-threaded on values of their own, so
// an xxxLocked helper they call without the lock still runs under it
// wherever the program calls it.
func outsideTests(instrs []ssa.Instruction) []ssa.Instruction {
	var out []ssa.Instruction
	for _, instr := range instrs {
		fn := instr.Parent()
		if !strings.HasSuffix(fn.Prog.Fset.Position(instr.Pos()).Filename, "_test.go") {
			out = append(out, instr)
		}
	}
	if len(out) == 0 {
		return instrs
	}
	return out
}

// maxEntryRounds bounds the rounds of entry propagation. Entries only
// shrink, so they converge; call chains deeper than this stay optimistic.
const maxEntryRounds = 8

// propagate solves every function entered only in place under the locks
// held at all its entries, to a fixed point over the call graph: locks
// reach callees through chains of helpers and callbacks, and call cycles
// (loadLocked calling flushLocked calling loadLocked) keep the locks their
// outside callers hold. It is optimistic: a site in a function whose own
// entry is not known yet does not count until it is.
func (s *state) propagate(order []*ssa.Function) {
	sites := entrySites(order)
	entry := make(map[*ssa.Function]*Set)
	for round := 0; round < maxEntryRounds; round++ {
		changed := false
		for i := len(order) - 1; i >= 0; i-- {
			fn := order[i]
			ss, ok := sites[fn]
			if !ok {
				continue
			}
			var e *Set
			for _, site := range ss {
				parent := site.instr.Parent()
				if _, cand := sites[parent]; cand && entry[parent] == nil {
					continue
				}
				st := s.res.at[site.instr]
				if st == nil {
					continue // not reached
				}
				if held, ok := s.siteLocks(fn, site, st); ok {
					e = lockstate.Meet(e, held, "entry:")
				}
			}
			if e == nil || (entry[fn] != nil && lockstate.Equal(entry[fn], e)) {
				continue
			}
			entry[fn] = e
			s.solve(fn, e)
			changed = true
		}
		if !changed {
			break
		}
	}
}

// siteLocks returns the locks fn starts with when entered at site.
func (s *state) siteLocks(fn *ssa.Function, site entrySite, st *Set) (*Set, bool) {
	cc := inPlace(site.instr)
	if !site.closure {
		return translate(st, cc.Args, fn), true
	}
	if cc.StaticCallee() == fn {
		return st, true
	}
	return s.passedTo(cc, fn, st)
}

// translate re-roots the locks held at a call into the callee's parameters:
// a lock is named through the argument it is reached from most directly
// (b.mu.Lock(); s.bumpLocked(b) holds param1.mu, not s's path to b). Every
// exclusive lock, nameable or not (c.mu for minLimit(&c.limit, l)), is also
// held as the caller's lock: the callee runs whole inside that section.
func translate(st *Set, args []ssa.Value, fn *ssa.Function) *Set {
	var out []Held
	hold := func(h Held, p accesspath.Path) {
		h.Path = p
		h.Acq = "entry:" + lockstate.Key(p, h.Exclusive)
		out = append(out, h)
	}
	for _, h := range st.Held() {
		if h.Exclusive {
			hold(h, lockstate.Caller)
		}
		if h.Path.RootKind == accesspath.RootGlobal {
			hold(h, h.Path)
			continue
		}
		best, found := -1, accesspath.Path{}
		for j, a := range args {
			if j >= len(fn.Params) {
				break
			}
			ap, isPath := accesspath.Of(a)
			if !isPath || ap.RootKind != h.Path.RootKind || ap.RootID != h.Path.RootID ||
				!prefix(ap.Elems, h.Path.Elems) || len(ap.Elems) <= best {
				continue
			}
			base, _ := accesspath.Of(fn.Params[j])
			best, found = len(ap.Elems), base.Append(h.Path.Elems[len(ap.Elems):]...)
		}
		if best >= 0 {
			hold(h, found)
		}
	}
	return lockstate.Of(out)
}
func prefix(pre, elems []accesspath.Elem) bool {
	if len(pre) > len(elems) {
		return false
	}
	for i := range pre {
		if pre[i].Kind != elems[i].Kind || pre[i].Name != elems[i].Name {
			return false
		}
	}
	return true
}
