package report

import (
	"go/ast"
	"go/token"

	"github.com/mprace/mprace/passes/internal/accesspath"
)

// Receiver returns how the source writes the receiver of the method call
// whose parenthesis is at lparen (s.mu in s.mu.Lock()), or p's form when
// the call is not found.
func (r *Reporter) Receiver(lparen token.Pos, p accesspath.Path) string {
	if c := r.CallAt(lparen); c != nil {
		if sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr); ok {
			return r.Text(sel.X)
		}
	}
	return p.String()
}
