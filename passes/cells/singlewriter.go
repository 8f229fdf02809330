package cells

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// SingleWriterDirective declares, on a struct field, a variable or an
// accessor, that one goroutine writes the cell by design:
//
//	commitIndex atomic.Uint64 //mprace:single-writer only the FSM goroutine advances it
//
// Both checks then stay silent on that cell at every use, in every package
// (the declaration travels as a SingleWriter fact). A directive without a
// reason declares nothing.
const SingleWriterDirective = "mprace:single-writer"

// SingleWriter is the fact exported for a field, variable or accessor
// declared single-writer.
type SingleWriter struct{ Reason string }

// AFact marks SingleWriter as an analysis fact.
func (*SingleWriter) AFact() {}

func (s *SingleWriter) String() string { return "single-writer: " + s.Reason }

// exportSingleWriters exports a SingleWriter fact for every declaration of
// the package that carries the directive with a reason.
func exportSingleWriters(pass *analysis.Pass) {
	declare := func(groups []*ast.CommentGroup, names ...*ast.Ident) {
		reason, ok := singleWriterReason(groups...)
		if !ok {
			return
		}
		for _, n := range names {
			if obj := pass.TypesInfo.Defs[n]; obj != nil {
				pass.ExportObjectFact(obj, &SingleWriter{Reason: reason})
			}
		}
	}
	for _, f := range pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				declare([]*ast.CommentGroup{n.Doc, n.Comment}, n.Names...)
			case *ast.GenDecl:
				if n.Tok != token.VAR {
					return true
				}
				for _, spec := range n.Specs {
					vs := spec.(*ast.ValueSpec)
					groups := []*ast.CommentGroup{vs.Doc, vs.Comment}
					if len(n.Specs) == 1 {
						groups = append(groups, n.Doc)
					}
					declare(groups, vs.Names...)
				}
			case *ast.FuncDecl:
				declare([]*ast.CommentGroup{n.Doc}, n.Name)
			}
			return true
		})
	}
}

// singleWriterReason returns the reason of the directive in groups, and
// whether there is a directive with a reason.
func singleWriterReason(groups ...*ast.CommentGroup) (string, bool) {
	for _, g := range groups {
		if g == nil {
			continue
		}
		for _, c := range g.List {
			text, ok := strings.CutPrefix(c.Text, "//"+SingleWriterDirective)
			if !ok || (text != "" && text[0] != ' ' && text[0] != '\t') {
				continue
			}
			if reason := strings.TrimSpace(text); reason != "" {
				return reason, true
			}
		}
	}
	return "", false
}

// singleWriter reports whether obj is declared single-writer, here or in
// the package that declares it.
func (c *collector) singleWriter(obj types.Object) bool {
	if obj == nil || obj.Pkg() == nil {
		return false
	}
	if v, ok := c.sw[obj]; ok {
		return v
	}
	var f SingleWriter
	v := c.pass.ImportObjectFact(obj, &f)
	c.sw[obj] = v
	return v
}

// cellObject returns the field or variable a cell operation's receiver (or
// pointer argument) names, through the load of a handle stored in a field.
func cellObject(recv ssa.Value) types.Object {
	if u, ok := recv.(*ssa.UnOp); ok && u.Op == token.MUL {
		if obj := location(u.X); obj != nil {
			return obj
		}
	}
	return location(recv)
}
