package guards

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"github.com/mprace/mprace/passes/internal/accesspath"
)

// guardComment finds the lock a comment names: gVisor checklocks'
// "+checklocks:mu" or the prose "guarded by mu" / "protected by mu".
var guardComment = regexp.MustCompile(`(?:\+checklocks:|(?i:\b(?:guarded|protected) by):?\s*)([A-Za-z_][\w.]*)`)

// declared returns the guards the package's comments declare, by field or
// variable.
func declared(fset *token.FileSet, files []*ast.File, info *types.Info, pkg *types.Package) map[*types.Var]*Guard {
	out := make(map[*types.Var]*Guard)
	note := func(names []*ast.Ident, g *Guard) {
		for _, n := range names {
			if v, ok := info.Defs[n].(*types.Var); ok && g != nil {
				out[v] = g
			}
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.StructType:
				st, ok := info.TypeOf(n).(*types.Struct)
				if !ok {
					return true
				}
				for _, fld := range n.Fields.List {
					if name := lockName(fld.Doc, fld.Comment); name != "" {
						note(fld.Names, resolve(name, st, pkg))
					}
				}
			case *ast.GenDecl:
				if n.Tok != token.VAR {
					return true
				}
				for _, spec := range n.Specs {
					vs := spec.(*ast.ValueSpec)
					docs := []*ast.CommentGroup{vs.Doc, vs.Comment}
					if len(n.Specs) == 1 {
						docs = append(docs, n.Doc)
					}
					if name := lockName(docs...); name != "" {
						note(vs.Names, resolve(name, nil, pkg))
					}
				}
			}
			return true
		})
	}
	return out
}

// lockName returns the lock named by the first guard comment among cgs.
func lockName(cgs ...*ast.CommentGroup) string {
	for _, cg := range cgs {
		if cg == nil {
			continue
		}
		for _, c := range cg.List {
			for _, m := range guardComment.FindAllStringSubmatchIndex(c.Text, -1) {
				before := strings.ToLower(strings.TrimSpace(c.Text[:m[0]]))
				if strings.HasSuffix(before, "not") || strings.HasSuffix(before, "n't") || strings.HasSuffix(before, "never") {
					continue // "not guarded by mu"
				}
				return strings.TrimRight(c.Text[m[2]:m[3]], ".")
			}
		}
	}
	return ""
}

// resolve turns a lock name (mu, inner.mu, pkgMu) into a guard: a field path
// from the struct st when its first step is a field of st, else a path from
// a package variable. It returns nil unless the name ends at a lock. Paths
// are built as accesspath spells the address a Lock call receives: a field
// step per name, and a load wherever a pointer (or interface) is followed.
func resolve(name string, st *types.Struct, pkg *types.Package) *Guard {
	steps := strings.Split(name, ".")
	var p accesspath.Path
	var t types.Type // the type stored at the address p
	if st != nil && field(st, steps[0]) != nil {
		p, t = ownerRoot, st
	} else {
		v, ok := pkg.Scope().Lookup(steps[0]).(*types.Var)
		if !ok {
			return nil
		}
		p = accesspath.Path{RootKind: accesspath.RootGlobal, RootID: pkg.Path() + "." + v.Name(), RootName: v.Name()}
		t, steps = v.Type(), steps[1:]
	}
	deref := accesspath.Elem{Kind: accesspath.ElemDeref}
	for _, s := range steps {
		if ptr, ok := t.Underlying().(*types.Pointer); ok {
			p, t = p.Append(deref), ptr.Elem()
		}
		sst, ok := t.Underlying().(*types.Struct)
		if !ok {
			return nil
		}
		f := field(sst, s)
		if f == nil {
			return nil
		}
		p, t = p.Append(accesspath.Elem{Kind: accesspath.ElemField, Name: f.Name()}), f.Type()
	}
	switch {
	case isLock(types.NewPointer(t)) && !types.IsInterface(t):
	case types.IsInterface(t) && isLock(t):
		p = p.Append(deref)
	default:
		ptr, ok := t.Underlying().(*types.Pointer)
		if !ok || !isLock(ptr) {
			return nil
		}
		p = p.Append(deref)
	}
	return &Guard{Lock: p, Declared: true}
}

func field(st *types.Struct, name string) *types.Var {
	for i := 0; i < st.NumFields(); i++ {
		if st.Field(i).Name() == name {
			return st.Field(i)
		}
	}
	return nil
}

// isLock reports whether values of type t have Lock and Unlock.
func isLock(t types.Type) bool {
	ms := types.NewMethodSet(t)
	return ms.Lookup(nil, "Lock") != nil && ms.Lookup(nil, "Unlock") != nil
}
