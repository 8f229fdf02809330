package locks

// Which functions a package has, and the order the passes visit them in.

import (
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"
)

// Funcs returns the source functions of the package: buildssa's, and the
// function literals in package-level variable initialisers (var worker =
// mp.NewFunc(..., func(...) {...})), which live in the package's init.
func Funcs(info *buildssa.SSA) []*ssa.Function {
	funcs := info.SrcFuncs
	init := info.Pkg.Func("init")
	if init == nil {
		return funcs
	}
	funcs = append([]*ssa.Function(nil), funcs...)
	var add func(fn *ssa.Function)
	add = func(fn *ssa.Function) {
		for _, anon := range fn.AnonFuncs {
			funcs = append(funcs, anon)
			add(anon)
		}
	}
	add(init)
	return funcs
}

// CalleesFirst orders funcs so that a function comes after the functions of
// the same list that it calls (recursion aside).
func CalleesFirst(funcs []*ssa.Function) []*ssa.Function {
	in := make(map[*ssa.Function]bool, len(funcs))
	for _, fn := range funcs {
		in[fn] = true
	}
	seen := make(map[*ssa.Function]bool, len(funcs))
	var out []*ssa.Function
	var visit func(fn *ssa.Function)
	visit = func(fn *ssa.Function) {
		if seen[fn] {
			return
		}
		seen[fn] = true
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if c, ok := instr.(ssa.CallInstruction); ok {
					if callee := c.Common().StaticCallee(); callee != nil {
						if o := callee.Origin(); o != nil {
							callee = o
						}
						if in[callee] {
							visit(callee)
						}
					}
				}
			}
		}
		out = append(out, fn)
	}
	for _, fn := range funcs {
		visit(fn)
	}
	return out
}
