package cells

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
)

// Mixed plain and atomic access: code written before sync/atomic had types
// updates a field with atomic.AddInt64(&c.n, 1) and reads it elsewhere as
// c.n. Such a plain load or store is an access of the cell like the atomic
// ones, and the report says it is mixed.

// Method names of plain accesses, as reports print them.
const (
	PlainRead  = "plain read (mixed plain/atomic access)"
	PlainWrite = "plain assignment (mixed plain/atomic access)"
)

// atomicLocations returns the package-level variables and struct fields
// whose address funcs pass to a sync/atomic function.
func atomicLocations(funcs []*ssa.Function) map[types.Object]bool {
	out := make(map[types.Object]bool)
	for _, fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				call, ok := instr.(ssa.CallInstruction)
				if !ok {
					continue
				}
				callee := call.Common().StaticCallee()
				if callee == nil || callee.Pkg == nil || callee.Pkg.Pkg.Path() != "sync/atomic" ||
					callee.Signature.Recv() != nil || len(call.Common().Args) == 0 {
					continue
				}
				if obj := location(call.Common().Args[0]); obj != nil {
					out[obj] = true
				}
			}
		}
	}
	return out
}

// location returns the variable or field that addr points to, or nil.
func location(addr ssa.Value) types.Object {
	switch a := addr.(type) {
	case *ssa.Global:
		return a.Object()
	case *ssa.FieldAddr:
		ptr, ok := a.X.Type().Underlying().(*types.Pointer)
		if !ok {
			return nil
		}
		st, ok := ptr.Elem().Underlying().(*types.Struct)
		if !ok || a.Field >= st.NumFields() {
			return nil
		}
		return st.Field(a.Field).Origin()
	}
	return nil
}

// plain returns the access a load or store makes of an atomically
// accessed location, or nil.
func (c *collector) plain(instr ssa.Instruction) *Access {
	if len(c.atomic) == 0 {
		return nil
	}
	addr := addrOf(instr)
	if obj := location(addr); obj == nil || !c.atomic[obj] {
		return nil
	}
	if _, ok := flow.LocalRoot(addr).(*ssa.Alloc); ok && !startsGoroutine(instr.Parent()) {
		return nil // a variable of this function, which no other goroutine sees
	}
	p, ok := accesspath.Of(addr)
	if !ok {
		return nil
	}
	if st, ok := instr.(*ssa.Store); ok {
		return &Access{Op: catalog.Write, Cell: p, Instr: instr, Method: PlainWrite, Stored: []ssa.Value{st.Val}}
	}
	return &Access{Op: catalog.Read, Cell: p, Instr: instr, Method: PlainRead, Value: instr.(*ssa.UnOp), Exact: true}
}

// addrOf returns the address a load or store accesses, or nil.
func addrOf(instr ssa.Instruction) ssa.Value {
	switch i := instr.(type) {
	case *ssa.UnOp:
		if i.Op == token.MUL {
			return i.X
		}
	case *ssa.Store:
		return i.Addr
	}
	return nil
}

// startsGoroutine reports whether fn has a go statement.
func startsGoroutine(fn *ssa.Function) bool {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			if _, ok := instr.(*ssa.Go); ok {
				return true
			}
		}
	}
	return false
}
