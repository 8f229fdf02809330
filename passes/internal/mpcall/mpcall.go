// Package mpcall identifies, in the syntax tree, calls of runtime/mp's
// package-level functions and methods, for the syntactic checks of the suite.
package mpcall

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// Func returns the name of the runtime/mp package-level function call calls
// (NewValue, NewFunc, Main...), or "".
func Func(info *types.Info, call *ast.CallExpr) string {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != catalog.MPPath {
		return ""
	}
	if fn.Signature().Recv() != nil {
		return ""
	}
	return fn.Name()
}

// Method returns the type and method name ("Func", "Start") of a call of a
// method of a runtime/mp type, or "", "".
func Method(info *types.Info, call *ast.CallExpr) (typeName, method string) {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != catalog.MPPath {
		return "", ""
	}
	recv := fn.Signature().Recv()
	if recv == nil {
		return "", ""
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return "", ""
	}
	return n.Origin().Obj().Name(), fn.Name()
}

// TypeArgs returns the type arguments a call of a generic function was
// instantiated with (explicit or inferred), or nil.
func TypeArgs(info *types.Info, call *ast.CallExpr) []types.Type {
	fun := ast.Unparen(call.Fun)
	if ix, ok := fun.(*ast.IndexExpr); ok {
		fun = ix.X
	} else if ix, ok := fun.(*ast.IndexListExpr); ok {
		fun = ix.X
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return nil
	}
	inst, ok := info.Instances[id]
	if !ok || inst.TypeArgs == nil {
		return nil
	}
	out := make([]types.Type, inst.TypeArgs.Len())
	for i := range out {
		out[i] = inst.TypeArgs.At(i)
	}
	return out
}

// IsFuncType reports whether t is *mp.Func[A] (or mp.Func[A]).
func IsFuncType(t types.Type) bool {
	return catalog.TypeKey(t) == catalog.MPPath+".Func"
}

// ImportName returns the name file refers to runtime/mp by, or "" when it
// does not import it (or imports it with . or _).
func ImportName(file *ast.File) string {
	for _, imp := range file.Imports {
		if imp.Path.Value != `"`+catalog.MPPath+`"` {
			continue
		}
		if imp.Name == nil {
			return "mp"
		}
		if n := imp.Name.Name; n != "." && n != "_" {
			return n
		}
	}
	return ""
}
