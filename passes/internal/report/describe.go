package report

import (
	"go/ast"
	"go/types"
	"strings"

	"github.com/mprace/mprace/passes/cells"
	"github.com/mprace/mprace/passes/internal/catalog"
)

// Op words how an access is made: "Load", or "s.Get (Load)" for an accessor.
func Op(a *cells.Access) string {
	if a.Via != nil {
		name := a.Via.Name()
		if sig, ok := a.Via.Type().(*types.Signature); ok && sig.Recv() != nil {
			name = recvName(sig.Recv().Type()) + "." + name
		} else if a.Via.Pkg() != nil {
			name = a.Via.Pkg().Name() + "." + name
		}
		return name + " (" + a.Method + ")"
	}
	return a.Method
}

func recvName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return types.TypeString(t, func(*types.Package) string { return "" })
}

// Remedy words the general fix for a lost update on the cell of a, when no
// rewrite is offered.
func Remedy(a *cells.Access) string {
	if a.Via != nil {
		return "hold one lock from the read through the write, or give the type an atomic update method"
	}
	switch {
	case a.Call.Func:
		return "use a CompareAndSwap loop, or hold one lock from the read through the write"
	case a.Call.Type != nil && a.Call.Type.Updater:
		return "use " + a.Cell.String() + ".Update, or hold " + a.Cell.String() + ".Lock() from the read through the write"
	case a.Call.Type != nil && a.Call.Type.Integer:
		return "use " + a.Cell.String() + ".Add or a CompareAndSwap loop, or hold one lock from the read through the write"
	}
	return "use a CompareAndSwap loop, or hold one lock from the read through the write"
}

// Qualifier spells package-qualified types as the package being analysed
// does, by package name.
func (r *Reporter) Qualifier(p *types.Package) string {
	if p == r.pass.Pkg {
		return ""
	}
	for _, imp := range r.pass.Pkg.Imports() {
		if imp == p {
			return p.Name()
		}
	}
	return p.Name()
}

// Integer reports whether t is an integer type, and whether it is signed.
func Integer(t types.Type) (isInt, signed bool) {
	b, ok := t.Underlying().(*types.Basic)
	if !ok || b.Info()&types.IsInteger == 0 {
		return false, false
	}
	return true, b.Info()&types.IsUnsigned == 0
}

// IsWrite reports whether a is a plain write (not an atomic update).
func IsWrite(a *cells.Access) bool { return a.Op == catalog.Write }

// CellName names the cell of a as the source writes it. Paths rooted at an
// unnamed value (the result of a call) are spelled from the call's receiver
// or pointer argument instead.
func (r *Reporter) CellName(a *cells.Access) string {
	name := a.Cell.String()
	if !strings.Contains(name, "(t") {
		return name
	}
	call := r.CallAt(a.Pos())
	if call == nil {
		return name
	}
	root := ""
	switch {
	case a.Via == nil && a.Call.Func && len(call.Args) > 0:
		return strings.TrimPrefix(r.Text(call.Args[0]), "&")
	case a.Via == nil:
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			root = r.Text(sel.X)
			if a.Call.M.Index >= 0 && len(call.Args) > a.Call.M.Index {
				root += "[" + r.Text(call.Args[a.Call.M.Index]) + "]"
			}
			return root
		}
	default:
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			q := a.Cell
			q.RootName = r.Text(sel.X)
			return q.String()
		}
	}
	return name
}
