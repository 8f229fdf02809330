package report

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// GetSetFix rewrites a Get statement and the Set that writes its value back,
//
//	v, _, _ := d.Get(k)
//	d.Set(k, f(v))
//
// into d.Update(k, func(v V) V { return f(v) }), for containers whose Get
// also returns an ok flag or an error (runtime/mp's Dict and List), so that
// the read is a statement of its own. It declines whenever the rewrite
// could change what the code does: the other results of Get are used, v is
// used anywhere but in the written value, a statement separates the two,
// the receiver or key has side effects or differs, the written value uses
// the container (Update holds its lock while f runs), or the Set's error is
// returned (Update's two results do not fit one return).
func (r *Reporter) GetSetFix(set, get *ast.CallExpr) (Edit, bool) {
	file := r.fileOf(get.Pos())
	if file == nil || len(set.Args) != 2 || len(get.Args) != 1 {
		return Edit{}, false
	}
	path, _ := astutil.PathEnclosingInterval(file, get.Pos(), get.End())
	if len(path) < 3 || path[0] != get {
		return Edit{}, false
	}
	def, ok := path[1].(*ast.AssignStmt)
	if !ok || def.Tok != token.DEFINE || len(def.Rhs) != 1 || def.Rhs[0] != get || len(def.Lhs) < 2 {
		return Edit{}, false
	}
	v, ok := def.Lhs[0].(*ast.Ident)
	if !ok || v.Name == "_" {
		return Edit{}, false
	}
	for _, l := range def.Lhs[1:] {
		if id, ok := l.(*ast.Ident); !ok || id.Name != "_" {
			return Edit{}, false
		}
	}
	next := nextStmt(path[2], def)
	// A comment in the Get or the Set would be lost with the Get, or with
	// the written value when its text is formatted into the closure.
	if next == nil || r.commentBetween(file, def.Pos(), next.End()) {
		return Edit{}, false
	}
	var lhs ast.Expr
	var tok token.Token
	switch s := next.(type) {
	case *ast.ExprStmt:
		if ast.Unparen(s.X) != set {
			return Edit{}, false
		}
	case *ast.AssignStmt:
		if len(s.Lhs) != 1 || len(s.Rhs) != 1 || ast.Unparen(s.Rhs[0]) != set ||
			(s.Tok != token.DEFINE && s.Tok != token.ASSIGN) {
			return Edit{}, false
		}
		lhs, tok = s.Lhs[0], s.Tok
	default:
		return Edit{}, false
	}
	ss, ok1 := set.Fun.(*ast.SelectorExpr)
	gs, ok2 := get.Fun.(*ast.SelectorExpr)
	if !ok1 || !ok2 || ss.Sel.Name != "Set" || gs.Sel.Name != "Get" {
		return Edit{}, false
	}
	recv, key := r.Text(ss.X), r.Text(set.Args[0])
	// Compared as formatted, since gofmt spaces n - 1 alone and n-1 among
	// other arguments.
	if types.ExprString(ss.X) != types.ExprString(gs.X) || types.ExprString(set.Args[0]) != types.ExprString(get.Args[0]) ||
		!r.pure(ss.X) || !r.pure(set.Args[0]) {
		return Edit{}, false
	}
	elem, ok := r.updateElem(ss.X, lhs != nil)
	if !ok {
		return Edit{}, false
	}
	val := set.Args[1]
	obj := r.pass.TypesInfo.Defs[v]
	if obj == nil || !r.usedOnlyIn(path, obj, val) || r.usesContainer(val, ss.X) {
		return Edit{}, false
	}
	body, ok := gofmt(r.Text(val))
	if !ok {
		return Edit{}, false
	}
	t, ok := r.Spell(elem, set.Pos())
	if !ok {
		return Edit{}, false
	}
	call := recv + ".Update(" + key + ", func(" + v.Name + " " + t + ") " + t + " { return " + body + " })"
	repl := analysis.TextEdit{Pos: set.Pos(), End: set.End(), NewText: []byte(call)}
	if lhs != nil {
		repl = analysis.TextEdit{Pos: next.Pos(), End: next.End(),
			NewText: []byte("_, " + r.Text(lhs) + " " + tok.String() + " " + call)}
	}
	return Edit{Call: call, Fix: analysis.SuggestedFix{
		Message: "Replace the Get and the Set with " + recv + ".Update",
		TextEdits: []analysis.TextEdit{
			{Pos: def.Pos(), End: next.Pos()}, // the Get statement, up to the Set's indentation
			repl,
		},
	}}, true
}

// Spell writes t as code at pos would: packages by the names the file
// imports them under. It reports false when no spelling at pos denotes t
// (its package is not imported by that file, or its name is shadowed
// there), since a fix that names the type would then not compile.
func (r *Reporter) Spell(t types.Type, pos token.Pos) (string, bool) {
	file := r.fileOf(pos)
	if file == nil {
		return "", false
	}
	names := make(map[*types.Package]string)
	for _, spec := range file.Imports {
		if pn := r.pass.TypesInfo.PkgNameOf(spec); pn != nil && pn.Name() != "_" && pn.Name() != "." {
			names[pn.Imported()] = pn.Name()
		}
	}
	s := types.TypeString(t, func(p *types.Package) string {
		if p == r.pass.Pkg {
			return ""
		}
		if n, ok := names[p]; ok {
			return n
		}
		return p.Name()
	})
	tv, err := types.Eval(r.pass.Fset, r.pass.Pkg, pos, s)
	if err != nil || !tv.IsType() || !types.Identical(tv.Type, t) {
		return "", false
	}
	return s, true
}

// fileOf returns the file of the package that contains pos, or nil.
func (r *Reporter) fileOf(pos token.Pos) *ast.File {
	for _, f := range r.pass.Files {
		if f.FileStart <= pos && pos < f.FileEnd {
			return f
		}
	}
	return nil
}

// nextStmt returns the statement after s in the statement list of parent.
func nextStmt(parent ast.Node, s ast.Stmt) ast.Stmt {
	var list []ast.Stmt
	switch p := parent.(type) {
	case *ast.BlockStmt:
		list = p.List
	case *ast.CaseClause:
		list = p.Body
	case *ast.CommClause:
		list = p.Body
	}
	for i, x := range list {
		if x == s && i+1 < len(list) {
			return list[i+1]
		}
	}
	return nil
}

// commentBetween reports whether a comment lies in [pos, end): deleting the
// range would delete it.
func (r *Reporter) commentBetween(f *ast.File, pos, end token.Pos) bool {
	for _, cg := range f.Comments {
		if cg.Pos() < end && cg.End() > pos {
			return true
		}
	}
	return false
}

// pure reports whether evaluating e twice, or once instead of twice, cannot
// change what the program does: names, constants, field selections and
// arithmetic on them, but no calls, receives or indexing. A field reached
// through a pointer is allowed: the fix evaluates it once where the code
// evaluated it twice in a row, and a nil pointer panics in both.
func (r *Reporter) pure(e ast.Expr) bool {
	if tv, ok := r.pass.TypesInfo.Types[e]; ok && tv.Value != nil {
		return true
	}
	switch e := e.(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.ParenExpr:
		return r.pure(e.X)
	case *ast.SelectorExpr:
		if sel, ok := r.pass.TypesInfo.Selections[e]; ok {
			return sel.Kind() == types.FieldVal && r.pure(e.X)
		}
		return true // a package-qualified name
	case *ast.BinaryExpr:
		return e.Op != token.QUO && e.Op != token.REM && r.pure(e.X) && r.pure(e.Y)
	case *ast.UnaryExpr:
		return e.Op != token.ARROW && r.pure(e.X)
	}
	return false
}

// updateElem returns the element type of the container recv when its type
// has Update(key, func(E) E) (E, error), as Dict and List do. withErr: the
// Set's error is assigned, so Update must return it second.
func (r *Reporter) updateElem(recv ast.Expr, withErr bool) (types.Type, bool) {
	t := r.pass.TypesInfo.TypeOf(recv)
	if t == nil {
		return nil, false
	}
	key := catalog.TypeKey(t)
	if key != catalog.MPPath+".Dict" && key != catalog.MPPath+".List" {
		return nil, false
	}
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, "Update")
	fn, ok := obj.(*types.Func)
	if !ok {
		return nil, false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() != 2 || sig.Results().Len() != 2 {
		return nil, false
	}
	f, ok := sig.Params().At(1).Type().Underlying().(*types.Signature)
	if !ok || f.Params().Len() != 1 || f.Results().Len() != 1 {
		return nil, false
	}
	elem := f.Params().At(0).Type()
	if !types.Identical(elem, f.Results().At(0).Type()) {
		return nil, false
	}
	if withErr && !types.Identical(sig.Results().At(1).Type(), types.Universe.Lookup("error").Type()) {
		return nil, false
	}
	return elem, true
}

// usedOnlyIn reports whether every use of obj in the function enclosing
// path lies inside within, and there is at least one.
func (r *Reporter) usedOnlyIn(path []ast.Node, obj types.Object, within ast.Expr) bool {
	var body ast.Node
	for _, n := range path {
		if _, ok := n.(*ast.FuncLit); ok {
			body = n
			break
		}
		if _, ok := n.(*ast.FuncDecl); ok {
			body = n
			break
		}
	}
	if body == nil {
		return false
	}
	inside, outside := 0, 0
	ast.Inspect(body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || r.pass.TypesInfo.Uses[id] != obj {
			return true
		}
		if id.Pos() >= within.Pos() && id.End() <= within.End() {
			inside++
		} else {
			outside++
		}
		return true
	})
	return inside > 0 && outside == 0
}

// usesContainer reports whether e mentions the root variable of recv or
// calls a runtime/mp method: Update runs f under the container's lock, and
// f must not use the container.
func (r *Reporter) usesContainer(e, recv ast.Expr) bool {
	root := recv
	for {
		switch x := ast.Unparen(root).(type) {
		case *ast.SelectorExpr:
			root = x.X
			continue
		}
		break
	}
	id, _ := ast.Unparen(root).(*ast.Ident)
	var rootObj types.Object
	if id != nil {
		rootObj = r.pass.TypesInfo.Uses[id]
	}
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if rootObj != nil && r.pass.TypesInfo.Uses[n] == rootObj {
				found = true
			}
		case *ast.SelectorExpr:
			if sel, ok := r.pass.TypesInfo.Selections[n]; ok && sel.Kind() == types.MethodVal {
				if fn, ok := sel.Obj().(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == catalog.MPPath {
					found = true
				}
			}
		}
		return !found
	})
	return found || rootObj == nil
}
