// Package report turns the findings of the mprace rules into diagnostics:
// it words positions, honours suppression comments and finds the source
// expressions that suggested fixes rewrite.
package report

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Reporter reports the findings of one pass.
type Reporter struct {
	pass  *analysis.Pass
	calls map[token.Pos]*ast.CallExpr
	sels  map[token.Pos]*ast.SelectorExpr // by the position of the selected name
	src   map[string][]byte               // file contents by name, for Text
	// ignores maps file name and line to the suppression comment there.
	ignores map[string]map[int]suppression
}

type suppression struct {
	reason string
	nolint bool
}

// New returns a Reporter for pass.
func New(pass *analysis.Pass) *Reporter {
	return &Reporter{pass: pass}
}

// Pass returns the pass being reported on.
func (r *Reporter) Pass() *analysis.Pass { return r.pass }

// Report reports msg at pos unless the line carries (or follows a line that
// carries) //mprace:ignore with a reason, or //nolint naming mprace.
func (r *Reporter) Report(pos, end token.Pos, category, msg string, fixes ...analysis.SuggestedFix) {
	posn := r.pass.Fset.Position(pos)
	if s, ok := r.suppressed(posn); ok {
		if s.nolint || s.reason != "" {
			return
		}
		msg += " (//mprace:ignore silences this only with a reason after it)"
	}
	r.pass.Report(analysis.Diagnostic{Pos: pos, End: end, Category: category, Message: msg, SuggestedFixes: fixes})
}

func (r *Reporter) suppressed(posn token.Position) (suppression, bool) {
	if r.ignores == nil {
		r.ignores = make(map[string]map[int]suppression)
		for _, f := range r.pass.Files {
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					s, ok := parseSuppression(c.Text)
					if !ok {
						continue
					}
					p := r.pass.Fset.Position(c.Slash)
					if r.ignores[p.Filename] == nil {
						r.ignores[p.Filename] = make(map[int]suppression)
					}
					r.ignores[p.Filename][p.Line] = s
				}
			}
		}
	}
	lines := r.ignores[posn.Filename]
	if s, ok := lines[posn.Line]; ok {
		return s, true
	}
	s, ok := lines[posn.Line-1]
	return s, ok
}

// parseSuppression recognises "//mprace:ignore reason" and golangci-lint's
// "//nolint" (all linters) or "//nolint:a,mprace,b // why".
func parseSuppression(text string) (suppression, bool) {
	text = strings.TrimPrefix(text, "//")
	if rest, ok := strings.CutPrefix(text, "mprace:ignore"); ok {
		if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
			return suppression{}, false
		}
		reason, _, _ := strings.Cut(rest, "//") // a trailing comment is not the reason
		return suppression{reason: strings.TrimSpace(reason)}, true
	}
	text = strings.TrimSpace(text)
	rest, ok := strings.CutPrefix(text, "nolint")
	if !ok {
		return suppression{}, false
	}
	if rest == "" || rest[0] == ' ' || rest[0] == '\t' {
		return suppression{nolint: true}, true
	}
	if rest[0] != ':' {
		return suppression{}, false
	}
	list, _, _ := strings.Cut(rest[1:], " ")
	for _, name := range strings.Split(list, ",") {
		if n := strings.TrimSpace(name); n == "mprace" || n == "all" {
			return suppression{nolint: true}, true
		}
	}
	return suppression{}, false
}

// Where words pos for a message about a finding at at: "line 12:7" in the
// same file, "other.go:12:7" elsewhere.
// Positions of calls are taken at the start of the call expression.
func (r *Reporter) Where(pos, at token.Pos) string {
	if c := r.CallAt(pos); c != nil {
		pos = c.Pos()
	}
	p, a := r.pass.Fset.Position(pos), r.pass.Fset.Position(at)
	if !p.IsValid() {
		return "an unknown position"
	}
	if p.Filename == a.Filename {
		return fmt.Sprintf("line %d:%d", p.Line, p.Column)
	}
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}

// CallAt returns the call expression whose opening parenthesis is at lparen
// (the position go/ssa gives a call), or nil.
func (r *Reporter) CallAt(lparen token.Pos) *ast.CallExpr {
	if r.calls == nil {
		r.calls = make(map[token.Pos]*ast.CallExpr)
		for _, f := range r.pass.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					r.calls[c.Lparen] = c
				}
				return true
			})
		}
	}
	return r.calls[lparen]
}

// Text returns the source form of n: its text as written when the file can
// be read (so a fix keeps the user's spacing), else n formatted.
func (r *Reporter) Text(n ast.Node) string {
	if tf := r.pass.Fset.File(n.Pos()); tf != nil && r.pass.ReadFile != nil {
		if r.src == nil {
			r.src = make(map[string][]byte)
		}
		src, ok := r.src[tf.Name()]
		if !ok {
			src, _ = r.pass.ReadFile(tf.Name())
			r.src[tf.Name()] = src
		}
		start, end := tf.Offset(n.Pos()), tf.Offset(n.End())
		if src != nil && start <= end && end <= len(src) {
			return string(src[start:end])
		}
	}
	var b bytes.Buffer
	if err := format.Node(&b, r.pass.Fset, n); err != nil {
		return ""
	}
	return b.String()
}
