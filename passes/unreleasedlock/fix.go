package unreleasedlock

import (
	"bytes"
	"go/ast"
	"go/token"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/report"
)

// deferFix returns the fix that defers the Unlock right after the Lock,
// when that is the same thing: one Lock, a statement of the function's own
// body, and every Unlock a statement followed by a return (or ending the
// function), each alone on its line.
func deferFix(rep *report.Reporter, fn *ssa.Function, u *lockUse) []analysis.SuggestedFix {
	if len(u.acquires) != 1 || len(u.releases) == 0 {
		return nil
	}
	if c, _ := catalog.Classify(u.acquires[0]); c.Name != "Lock" {
		return nil
	}
	body := funcBody(fn)
	if body == nil {
		return nil
	}
	lock, lockBlock := stmtOf(rep, u.acqInstr[0].Pos())
	if lock == nil || lockBlock != body {
		return nil
	}
	var edits []analysis.TextEdit
	var unlockText string
	for _, r := range u.releases {
		if _, ok := r.(*ssa.Call); !ok {
			return nil
		}
		st, block := stmtOf(rep, r.Pos())
		if st == nil || st.Pos() < lock.End() || !beforeReturn(st, block, body) {
			return nil
		}
		del, ok := wholeLine(rep, st)
		if !ok {
			return nil
		}
		unlockText = rep.Text(st.X)
		edits = append(edits, del)
	}
	indent, ok := lineIndent(rep, lock)
	if !ok {
		return nil
	}
	edits = append(edits, analysis.TextEdit{Pos: lock.End(), End: lock.End(),
		NewText: []byte("\n" + indent + "defer " + unlockText)})
	return []analysis.SuggestedFix{{Message: "defer " + unlockText + " right after the Lock", TextEdits: edits}}
}

func funcBody(fn *ssa.Function) *ast.BlockStmt {
	switch s := fn.Syntax().(type) {
	case *ast.FuncDecl:
		return s.Body
	case *ast.FuncLit:
		return s.Body
	}
	return nil
}

// stmtOf returns the expression statement of the call whose parenthesis is
// at lparen, and the block it is a statement of.
func stmtOf(rep *report.Reporter, lparen token.Pos) (*ast.ExprStmt, *ast.BlockStmt) {
	call := rep.CallAt(lparen)
	if call == nil {
		return nil, nil
	}
	var file *ast.File
	for _, f := range rep.Pass().Files {
		if f.FileStart <= call.Pos() && call.Pos() < f.FileEnd {
			file = f
		}
	}
	if file == nil {
		return nil, nil
	}
	path, _ := astutil.PathEnclosingInterval(file, call.Pos(), call.End())
	if len(path) < 3 || path[0] != call {
		return nil, nil
	}
	st, ok := path[1].(*ast.ExprStmt)
	if !ok {
		return nil, nil
	}
	block, ok := path[2].(*ast.BlockStmt)
	if !ok {
		return nil, nil
	}
	return st, block
}

// beforeReturn reports whether st is followed by a return in its block, or
// is the last statement of the function's body.
func beforeReturn(st ast.Stmt, block, body *ast.BlockStmt) bool {
	for i, s := range block.List {
		if s != st {
			continue
		}
		if i+1 < len(block.List) {
			_, ok := block.List[i+1].(*ast.ReturnStmt)
			return ok
		}
		return block == body
	}
	return false
}

// wholeLine returns the edit deleting st's line, when st is alone on it.
func wholeLine(rep *report.Reporter, st ast.Stmt) (analysis.TextEdit, bool) {
	_, start, end, ok := ownLine(rep, st)
	return analysis.TextEdit{Pos: start, End: end}, ok
}

// lineIndent returns the white space that starts st's line, when st is
// alone on it.
func lineIndent(rep *report.Reporter, st ast.Stmt) (string, bool) {
	full, _, _, ok := ownLine(rep, st)
	return string(full[:len(full)-len(bytes.TrimLeft(full, " \t"))]), ok
}

// ownLine returns the text and extent (newline included) of st's line, when
// st is alone on it.
func ownLine(rep *report.Reporter, st ast.Stmt) ([]byte, token.Pos, token.Pos, bool) {
	pass := rep.Pass()
	tf := pass.Fset.File(st.Pos())
	if pass.ReadFile == nil || tf == nil {
		return nil, 0, 0, false
	}
	src, err := pass.ReadFile(tf.Name())
	line := tf.Line(st.Pos())
	if err != nil || line >= tf.LineCount() || tf.Size() != len(src) {
		return nil, 0, 0, false
	}
	start, end := tf.LineStart(line), tf.LineStart(line+1)
	full := src[tf.Offset(start):tf.Offset(end)]
	if string(bytes.TrimSpace(full)) != rep.Text(st) {
		return nil, 0, 0, false
	}
	return full, start, end, true
}
