package locks

import (
	"go/ast"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
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

// callSiteLocks meets the locks held at every direct call of fn, expressed
// in fn's terms (a lock s.mu of an argument s becomes the parameter's).
// It returns nil when fn has no call site with known locks.
func (s *state) callSiteLocks(fn *ssa.Function, sites []ssa.Instruction) *Set {
	var entry *Set
	for _, instr := range sites {
		st := s.res.at[instr]
		if st == nil {
			return nil // a call site not reached by the analysis
		}
		entry = meet(entry, translate(st, inPlace(instr).Args, fn), "entry:")
	}
	return entry
}

// translate re-roots the locks held at a call into the callee's parameters.
func translate(st *Set, args []ssa.Value, fn *ssa.Function) *Set {
	out := &Set{held: make(map[string]Held), released: make(map[string]accesspath.Path)}
	for _, h := range st.held {
		p, ok := h.Path, h.Path.RootKind == accesspath.RootGlobal
		for j, a := range args {
			if ok || j >= len(fn.Params) {
				break
			}
			ap, isPath := accesspath.Of(a)
			if !isPath || ap.RootKind != h.Path.RootKind || ap.RootID != h.Path.RootID || !prefix(ap.Elems, h.Path.Elems) {
				continue
			}
			base, _ := accesspath.Of(fn.Params[j])
			p, ok = base.Append(h.Path.Elems[len(ap.Elems):]...), true
		}
		if ok {
			h.Path = p
			h.Acq = "entry:" + heldKey(p, h.Exclusive)
			out.held[heldKey(p, h.Exclusive)] = h
		}
	}
	return out
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
