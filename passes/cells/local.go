package cells

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// A cell inside a variable or composite literal of one function, whose
// address goes nowhere but to the cell's own operations, is seen by that
// function's goroutine alone: var x struct{ i atomic.Int32 } in a test that
// loads and stores x.i is not a shared cell.

// unsharedLocal reports whether addr points into an allocation of its
// function that no other goroutine can reach, in a function that starts
// none: the allocation's address is only selected into, loaded, stored
// through, and handed to cell and lock operations (which keep no pointer).
func unsharedLocal(addr ssa.Value) bool {
	for i := 0; i < 64; i++ {
		switch a := addr.(type) {
		case *ssa.FieldAddr:
			addr = a.X
			continue
		case *ssa.IndexAddr:
			addr = a.X
			continue
		case *ssa.Alloc:
			return !escapes(a, 0)
		}
		return false
	}
	return false
}

// escapes reports whether a pointer into a local allocation may reach
// another goroutine.
func escapes(v ssa.Value, depth int) bool {
	if depth > 8 {
		return true
	}
	refs := v.Referrers()
	if refs == nil {
		return false
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.FieldAddr, *ssa.IndexAddr:
			if escapes(r.(ssa.Value), depth+1) {
				return true
			}
		case *ssa.UnOp:
			if r.Op != token.MUL {
				return true
			}
		case *ssa.Store:
			if r.Val == v {
				return true // the address itself is stored somewhere
			}
		case *ssa.DebugRef:
		case ssa.CallInstruction:
			if _, ok := r.(*ssa.Call); !ok {
				return true // go, defer: runs later, maybe elsewhere
			}
			c, ok := catalog.Classify(r.Common())
			if !ok || c.Recv != v {
				return true // handed on, or stored by the operation (p.Store(&x))
			}
		default:
			return true
		}
	}
	return false
}

// dropLocal removes the direct accesses of fn to cells in unshared local
// allocations.
func dropLocal(fn *ssa.Function, accs []*Access) []*Access {
	if startsGoroutine(fn) {
		return accs
	}
	return keep(accs, func(a *Access) bool {
		if a.Via != nil {
			return true
		}
		switch {
		case a.Call.Recv != nil:
			return !unsharedLocal(a.Call.Recv)
		case a.Instr != nil:
			if addr := addrOf(a.Instr); addr != nil {
				return !unsharedLocal(addr)
			}
		}
		return true
	})
}

// returnsFresh reports whether fn, a function of the package, returns as
// its first result an object it allocates itself (or nil), at every return:
// a constructor by what it does, whatever its name
// (func (c *conn) readRequest() (*response, error) { ...; w := &response{...}; return w, nil }).
func (c *collector) returnsFresh(fn *ssa.Function) bool {
	if fn.Pkg == nil || fn.Pkg.Pkg != c.pass.Pkg || fn.Signature.Results().Len() == 0 || len(fn.Blocks) == 0 {
		return false
	}
	if v, ok := c.fresh[fn]; ok {
		return v
	}
	c.fresh[fn] = false
	if _, ok := fn.Signature.Results().At(0).Type().Underlying().(*types.Pointer); !ok {
		return false
	}
	rets := 0
	for _, b := range fn.Blocks {
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok {
			continue
		}
		rets++
		if !allocated(ret.Results[0], 0) {
			return false
		}
	}
	c.fresh[fn] = rets > 0
	return rets > 0
}

// allocated reports whether v is a new allocation, nil, or a choice
// between them.
func allocated(v ssa.Value, depth int) bool {
	if depth > 4 {
		return false
	}
	switch v := v.(type) {
	case *ssa.Alloc:
		return true
	case *ssa.Const:
		return v.IsNil()
	case *ssa.Phi:
		for _, e := range v.Edges {
			if !allocated(e, depth+1) {
				return false
			}
		}
		return true
	case *ssa.UnOp:
		// A named result, kept in a variable when the function defers:
		// every assignment to it must be allocated.
		slot, ok := v.X.(*ssa.Alloc)
		if v.Op != token.MUL || !ok {
			return false
		}
		for _, r := range *slot.Referrers() {
			switch r := r.(type) {
			case *ssa.Store:
				if load, ok := r.Val.(*ssa.UnOp); ok && load.Op == token.MUL && load.X == slot {
					continue // return w: the slot's own value stored back
				}
				if r.Addr != slot || !allocated(r.Val, depth+1) {
					return false
				}
			case *ssa.UnOp, *ssa.DebugRef:
			default:
				return false
			}
		}
		return true
	}
	return false
}
