package report

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Edit describes a rewrite of a write call into one atomic call.
type Edit struct {
	Fix  analysis.SuggestedFix
	Call string // the new call, for the message
}

// sameTarget reports whether the read call rd and the write call w operate
// on the same receiver (and, for arrays, the same index) as written.
func (r *Reporter) sameTarget(w, rd *ast.CallExpr, funcForm, indexed bool) bool {
	if funcForm {
		return len(w.Args) == 2 && len(rd.Args) == 1 && r.Text(w.Args[0]) == r.Text(rd.Args[0])
	}
	ws, ok1 := w.Fun.(*ast.SelectorExpr)
	rs, ok2 := rd.Fun.(*ast.SelectorExpr)
	if !ok1 || !ok2 || r.Text(ws.X) != r.Text(rs.X) {
		return false
	}
	if indexed {
		return len(w.Args) == 2 && len(rd.Args) == 1 && r.Text(w.Args[0]) == r.Text(rd.Args[0])
	}
	return len(w.Args) == 1 && len(rd.Args) == 0
}

// AddFix rewrites c.Store(c.Load() + d) into c.Add(d) (and c.Set(i,
// c.Get(i)+d) into c.Add(i, d), atomic.StoreT(p, atomic.LoadT(p)+d) into
// atomic.AddT(p, d)). Subtraction is rewritten only for signed integers.
func (r *Reporter) AddFix(w, rd *ast.CallExpr, funcForm, indexed, signed bool) (Edit, bool) {
	if !r.sameTarget(w, rd, funcForm, indexed) {
		return Edit{}, false
	}
	be, ok := ast.Unparen(w.Args[len(w.Args)-1]).(*ast.BinaryExpr)
	if !ok || (be.Op != token.ADD && be.Op != token.SUB) {
		return Edit{}, false
	}
	var delta ast.Expr
	neg := false
	switch {
	case ast.Unparen(be.X) == rd:
		delta, neg = be.Y, be.Op == token.SUB
	case ast.Unparen(be.Y) == rd && be.Op == token.ADD:
		delta = be.X
	default:
		return Edit{}, false
	}
	if neg && !signed {
		return Edit{}, false
	}
	d := r.Text(delta)
	if neg {
		switch delta.(type) {
		case *ast.Ident, *ast.BasicLit, *ast.SelectorExpr, *ast.CallExpr:
			d = "-" + d
		default:
			d = "-(" + d + ")"
		}
	}
	var call string
	if funcForm {
		fun := r.Text(w.Fun)
		i := strings.LastIndex(fun, "Store")
		if i < 0 {
			return Edit{}, false
		}
		call = fun[:i] + "Add" + fun[i+len("Store"):] + "(" + r.Text(w.Args[0]) + ", " + d + ")"
	} else {
		recv := r.Text(w.Fun.(*ast.SelectorExpr).X)
		if indexed {
			call = recv + ".Add(" + r.Text(w.Args[0]) + ", " + d + ")"
		} else {
			call = recv + ".Add(" + d + ")"
		}
	}
	return Edit{Call: call, Fix: analysis.SuggestedFix{
		Message:   "Replace with " + call,
		TextEdits: []analysis.TextEdit{{Pos: w.Pos(), End: w.End(), NewText: []byte(call)}},
	}}, true
}

// UpdateFix rewrites v.Store(f(v.Load())) into
// v.Update(func(x T) T { return f(x) }) (and the Set/Get/Update(i, ...)
// forms of arrays), when the read is the only read of the cell in the
// written expression.
func (r *Reporter) UpdateFix(w, rd *ast.CallExpr, indexed bool, elemType string) (Edit, bool) {
	if !r.sameTarget(w, rd, false, indexed) || elemType == "" {
		return Edit{}, false
	}
	val := w.Args[len(w.Args)-1]
	if rd.Pos() < val.Pos() || rd.End() > val.End() {
		return Edit{}, false
	}
	valText, rdText := r.Text(val), r.Text(rd)
	if strings.Count(valText, rdText) != 1 {
		return Edit{}, false
	}
	name := freshName(val)
	if name == "" {
		return Edit{}, false
	}
	body, ok := gofmt(strings.Replace(valText, rdText, name, 1))
	if !ok {
		return Edit{}, false
	}
	fn := "func(" + name + " " + elemType + ") " + elemType + " { return " + body + " }"
	recv := r.Text(w.Fun.(*ast.SelectorExpr).X)
	var call string
	if indexed {
		call = recv + ".Update(" + r.Text(w.Args[0]) + ", " + fn + ")"
	} else {
		call = recv + ".Update(" + fn + ")"
	}
	return Edit{Call: call, Fix: analysis.SuggestedFix{
		Message:   "Replace with " + recv + ".Update",
		TextEdits: []analysis.TextEdit{{Pos: w.Pos(), End: w.End(), NewText: []byte(call)}},
	}}, true
}

// freshName picks a parameter name not used in e.
func freshName(e ast.Expr) string {
	used := make(map[string]bool)
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			used[id.Name] = true
		}
		return true
	})
	for _, n := range []string{"x", "old", "cur", "prev", "x0"} {
		if !used[n] {
			return n
		}
	}
	return ""
}

// gofmt formats an expression as gofmt would, so that the body of a
// suggested closure reads as if written by hand; it reports false if the
// text does not parse.
func gofmt(expr string) (string, bool) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return "", false
	}
	var b bytes.Buffer
	if err := format.Node(&b, token.NewFileSet(), e); err != nil {
		return "", false
	}
	return b.String(), true
}
