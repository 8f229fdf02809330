package report

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/cell"
)

// Op words how an access is made: "Load", or "s.Get (Load)" for an accessor.
func Op(a *cell.Access) string {
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
// rewrite is offered. It names the handle whose method makes the update
// atomic (d, not the element d["k"]), the key or index as written, and the
// method's real shape, so the advice can be typed in as given.
func (r *Reporter) Remedy(a *cell.Access) string {
	if a.Via != nil {
		return "hold one lock from the read through the write, or give the type an atomic update method"
	}
	ty := a.Call.Type
	if a.Call.Func || ty == nil {
		return "use a CompareAndSwap loop, or hold one lock from the read through the write"
	}
	handle, key := r.handle(a)
	lock := r.OwnLock(a)
	if lock == "" {
		lock = ", or hold one lock from the read through the write"
	}
	args := ""
	if key != "" {
		args = key + ", "
	}
	var use []string
	if ty.Integer {
		use = append(use, handle+".Add("+args+"delta)")
	}
	if ty.Updater {
		f := "f"
		if t := r.elemType(a); t != "" {
			f = "func(x " + t + ") " + t + " { ... }"
		}
		use = append(use, handle+".Update("+args+f+")")
	}
	switch {
	case len(use) == 0:
		return "use a CompareAndSwap loop" + lock
	case !ty.Updater:
		return "use " + use[0] + " or a CompareAndSwap loop" + lock
	}
	return "use " + strings.Join(use, " or ") + lock
}

// OwnLock words the alternative of holding the handle's own lock, for
// handles that have one: ", or hold d.Lock() from the read through the
// write"; it returns "" for other cells.
func (r *Reporter) OwnLock(a *cell.Access) string {
	if a.Via != nil || a.Call.Func || a.Call.Type == nil {
		return ""
	}
	if _, ok := a.Call.Type.Methods["Lock"]; !ok {
		return ""
	}
	handle, _ := r.handle(a)
	return ", or hold " + handle + ".Lock() from the read through the write"
}

// handle returns the receiver of a's call as written, and for an element
// access the key or index argument as written ("" otherwise).
func (r *Reporter) handle(a *cell.Access) (handle, key string) {
	idx := a.Call.M.Index
	if call := r.CallAt(a.Pos()); call != nil {
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
			handle = r.Text(sel.X)
			if idx >= 0 && idx < len(call.Args) {
				key = r.Text(call.Args[idx])
			}
			return handle, key
		}
	}
	p := a.Cell
	if idx >= 0 && len(p.Elems) > 0 {
		key = p.Elems[len(p.Elems)-1].Show
		p = p.TrimLast()
	}
	return p.String(), key
}

// elemType spells the type of the value a writes (V of a Dict, T of an
// Array), from the written argument's parameter, or "".
func (r *Reporter) elemType(a *cell.Access) string {
	call := r.CallAt(a.Pos())
	if call == nil || a.Call.M.Value < 0 {
		return ""
	}
	sig, ok := r.pass.TypesInfo.TypeOf(call.Fun).(*types.Signature)
	if !ok || a.Call.M.Value >= sig.Params().Len() {
		return ""
	}
	return types.TypeString(sig.Params().At(a.Call.M.Value).Type(), r.Qualifier)
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
func IsWrite(a *cell.Access) bool { return a.Op == catalog.Write }

// CellName names the cell of a as the source writes it. Paths rooted at an
// unnamed value (the result of a call) are spelled from the call's receiver
// or pointer argument instead.
func (r *Reporter) CellName(a *cell.Access) string {
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

// Read is the related position of a report: the read r of cell, as written
// in the source.
func (r *Reporter) Read(read *cell.Access, cell string) []analysis.RelatedInformation {
	pos, end := read.Pos(), token.NoPos
	if !pos.IsValid() {
		return nil
	}
	if c := r.CallAt(pos); c != nil {
		pos, end = c.Pos(), c.End()
	}
	return []analysis.RelatedInformation{{Pos: pos, End: end, Message: "read of " + cell + " by " + Op(read)}}
}
