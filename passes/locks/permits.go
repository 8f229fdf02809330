package locks

import (
	"go/constant"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// A Semaphore is a lock only when one holder at a time can be inside it.
// The catalog gives its Acquire, TryAcquire and Release as neutral, with the
// lock operation each is on a semaphore of one permit; this file proves
// that a receiver has one permit. It has when it was made by
// mp.NewSemaphore(1) or mp.NewBoundedSemaphore(1) (a constant 1), through
// phis and closures' captures, or when it is loaded from a struct field, a
// package variable or a captured local every store to which, in the
// package, is such a semaphore, and whose address goes nowhere else. A
// field or package variable so proven is exported as a OnePermit fact; in
// another package it is one-permit when the fact says so and that
// package's own stores agree. Anything else (a parameter, a result, an
// element of a map) is not a lock: a race under it is reported, not hidden.

// OnePermit is the fact exported for a field or package variable that only
// ever holds semaphores of one permit.
type OnePermit struct{}

// AFact marks OnePermit as an analysis fact.
func (*OnePermit) AFact() {}

func (*OnePermit) String() string { return "one-permit semaphore" }

// Verdicts of a variable while it is being proven.
const (
	unproven uint8 = iota
	proving        // on the stack: a cycle of stores (a.sem = b.sem; b.sem = a.sem) adds nothing
	onePermit
	notOnePermit
)

type permits struct {
	pass *analysis.Pass
	// stores maps a field or package variable of semaphore type to the
	// values stored in it in this package; escaped marks those whose
	// address is taken for anything but a load or a store.
	stores  map[*types.Var][]ssa.Value
	escaped map[*types.Var]bool
	verdict map[*types.Var]uint8
	depth   int // variables being proven
}

func newPermits(pass *analysis.Pass, pkg *ssa.Package, funcs []*ssa.Function) *permits {
	p := &permits{pass: pass, stores: make(map[*types.Var][]ssa.Value),
		escaped: make(map[*types.Var]bool), verdict: make(map[*types.Var]uint8)}
	seen := make(map[*ssa.Function]bool)
	var scan func(fn *ssa.Function)
	scan = func(fn *ssa.Function) {
		if fn == nil || seen[fn] {
			return
		}
		seen[fn] = true
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if fa, ok := instr.(*ssa.FieldAddr); ok {
					if v := variable(fa); v != nil && isSemaphore(v.Type()) {
						p.note(v, fa)
					}
				}
				// A Global has no referrers: its uses are found here.
				for _, op := range instr.Operands(nil) {
					if g, ok := (*op).(*ssa.Global); ok {
						if v := variable(g); v != nil && isSemaphore(v.Type()) {
							p.use(v, g, instr)
						}
					}
				}
			}
		}
		for _, anon := range fn.AnonFuncs {
			scan(anon)
		}
	}
	for _, fn := range funcs {
		scan(fn)
	}
	scan(pkg.Func("init"))
	return p
}

// note records what is done with addr, the address of variable v.
func (p *permits) note(v *types.Var, addr ssa.Value) {
	if refs := addr.Referrers(); refs != nil {
		for _, ref := range *refs {
			p.use(v, addr, ref)
		}
	}
}

// use records one use of addr, the address of v: a store in it, a load, or
// anything else, which lets the address escape.
func (p *permits) use(v *types.Var, addr ssa.Value, instr ssa.Instruction) {
	switch r := instr.(type) {
	case *ssa.Store:
		if r.Addr == addr && r.Val != addr {
			p.stores[v] = append(p.stores[v], r.Val)
			return
		}
	case *ssa.UnOp:
		if r.Op == token.MUL {
			return
		}
	case *ssa.DebugRef:
		return
	}
	p.escaped[v] = true
}

// export records a OnePermit fact for each exported field and package
// variable of the package that holds only one-permit semaphores.
func (p *permits) export() {
	for v := range p.stores {
		if v.Pkg() == p.pass.Pkg && v.Exported() && p.variableOne(v) {
			p.pass.ExportObjectFact(v, &OnePermit{})
		}
	}
}

// one reports whether the semaphore v has one permit.
func (p *permits) one(v ssa.Value) bool { return p.value(v, make(map[ssa.Value]bool)) }

func (p *permits) value(v ssa.Value, visiting map[ssa.Value]bool) bool {
	if visiting[v] {
		return true // a phi cycle: the other edges decide
	}
	visiting[v] = true
	switch v := v.(type) {
	case *ssa.Extract:
		call, ok := v.Tuple.(*ssa.Call)
		return ok && v.Index == 0 && madeWithOnePermit(call.Common())
	case *ssa.Phi:
		return every(v.Edges, func(e ssa.Value) bool { return p.value(e, visiting) })
	case *ssa.FreeVar:
		return every(bindings(v), func(b ssa.Value) bool { return p.value(b, visiting) })
	case *ssa.Field:
		return p.variableOne(fieldVar(v.X.Type(), v.Field))
	case *ssa.UnOp:
		if v.Op != token.MUL {
			return false
		}
		return p.loaded(v.X, visiting)
	}
	return false
}

// loaded reports whether what is loaded from addr is a one-permit
// semaphore.
func (p *permits) loaded(addr ssa.Value, visiting map[ssa.Value]bool) bool {
	switch a := addr.(type) {
	case *ssa.FreeVar:
		return every(bindings(a), func(b ssa.Value) bool { return p.loaded(b, visiting) })
	case *ssa.Alloc:
		return p.local(a, visiting)
	}
	if v := variable(addr); v != nil {
		return p.variableOne(v)
	}
	return false
}

// local reports whether every store to the captured or address-taken local
// whose address is addr (the Alloc in its function, a free variable in a
// closure) is a one-permit semaphore, and its address goes nowhere else.
func (p *permits) local(addr ssa.Value, visiting map[ssa.Value]bool) bool {
	refs := addr.Referrers()
	if refs == nil {
		return false
	}
	for _, ref := range *refs {
		switch r := ref.(type) {
		case *ssa.Store:
			if r.Addr != addr || !p.value(r.Val, visiting) {
				return false
			}
		case *ssa.UnOp:
			if r.Op != token.MUL {
				return false
			}
		case *ssa.MakeClosure:
			fn := r.Fn.(*ssa.Function)
			for i, b := range r.Bindings {
				if b == addr && !p.local(fn.FreeVars[i], visiting) {
					return false
				}
			}
		case *ssa.DebugRef:
		default:
			return false
		}
	}
	return true
}

// variableOne reports whether every semaphore stored in v, a field or
// package variable, has one permit.
func (p *permits) variableOne(v *types.Var) bool {
	if v == nil || p.escaped[v] {
		return false
	}
	switch p.verdict[v] {
	case proving, onePermit:
		return true
	case notOnePermit:
		return false
	}
	p.verdict[v] = proving
	p.depth++
	ok := len(p.stores[v]) > 0
	if v.Pkg() != p.pass.Pkg {
		ok = p.pass.ImportObjectFact(v, new(OnePermit))
	}
	for _, s := range p.stores[v] {
		if !ok {
			break
		}
		ok = p.value(s, make(map[ssa.Value]bool))
	}
	p.depth--
	switch {
	case !ok:
		p.verdict[v] = notOnePermit
	case p.depth == 0:
		p.verdict[v] = onePermit
	default:
		// Proven assuming what is on the stack: kept only if that holds.
		p.verdict[v] = unproven
	}
	return ok
}

// every reports whether vs is not empty and f holds for each.
func every(vs []ssa.Value, f func(ssa.Value) bool) bool {
	for _, v := range vs {
		if !f(v) {
			return false
		}
	}
	return len(vs) > 0
}

// madeWithOnePermit reports whether cc is mp.NewSemaphore(1) or
// mp.NewBoundedSemaphore(1).
func madeWithOnePermit(cc *ssa.CallCommon) bool {
	fn := cc.StaticCallee()
	if fn == nil || fn.Pkg == nil || fn.Pkg.Pkg.Path() != catalog.MPPath || len(cc.Args) != 1 {
		return false
	}
	if fn.Name() != "NewSemaphore" && fn.Name() != "NewBoundedSemaphore" {
		return false
	}
	c, ok := cc.Args[0].(*ssa.Const)
	if !ok || c.Value == nil || c.Value.Kind() != constant.Int {
		return false
	}
	n, exact := constant.Int64Val(c.Value)
	return exact && n == 1
}

// bindings returns the values bound to the free variable fv where its
// closure is made.
func bindings(fv *ssa.FreeVar) []ssa.Value {
	fn := fv.Parent()
	idx := -1
	for i, f := range fn.FreeVars {
		if f == fv {
			idx = i
		}
	}
	if idx < 0 || fn.Parent() == nil {
		return nil
	}
	var out []ssa.Value
	for _, b := range fn.Parent().Blocks {
		for _, instr := range b.Instrs {
			if mc, ok := instr.(*ssa.MakeClosure); ok && mc.Fn == fn {
				out = append(out, mc.Bindings[idx])
			}
		}
	}
	return out
}

// variable returns the field or package variable whose address addr is.
func variable(addr ssa.Value) *types.Var {
	switch a := addr.(type) {
	case *ssa.FieldAddr:
		ptr, ok := a.X.Type().Underlying().(*types.Pointer)
		if !ok {
			return nil
		}
		return fieldVar(ptr.Elem(), a.Field)
	case *ssa.Global:
		v, _ := a.Object().(*types.Var)
		return v
	}
	return nil
}

func fieldVar(t types.Type, i int) *types.Var {
	st, ok := t.Underlying().(*types.Struct)
	if !ok || i >= st.NumFields() {
		return nil
	}
	return st.Field(i).Origin()
}

func isSemaphore(t types.Type) bool { return catalog.TypeKey(t) == catalog.MPPath+".Semaphore" }

// classify is catalog.Classify, with a semaphore's operations made lock
// operations when it has one permit.
func (s *state) classify(cc *ssa.CallCommon) (catalog.Call, bool) {
	c, ok := catalog.Classify(cc)
	if ok && c.M.OnePermit != catalog.None && s.permits.one(c.Recv) {
		c.M.Op = c.M.OnePermit
	}
	return c, ok
}
