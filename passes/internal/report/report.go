// Package report turns the findings of the mprace rules into diagnostics:
// it words positions, honours suppression comments and finds the source
// expressions that suggested fixes rewrite.
package report

import (
	"bytes"
	"flag"
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
	pass    *analysis.Pass
	calls   map[token.Pos]*ast.CallExpr
	sels    map[token.Pos]*ast.SelectorExpr // by the position of the selected name
	indexes map[token.Pos]*ast.IndexExpr    // by the position of the opening bracket
	src     map[string][]byte               // file contents by name, for Text
	// ignores maps file name and line to the suppression comment there.
	ignores map[string]map[int]suppression
	// said holds the reports made, so that a race found twice (an
	// accessor that writes the cell on two paths) is reported once.
	said map[said]bool
}

type said struct {
	pos           token.Pos
	category, msg string
}

type suppression struct {
	reason string
	nolint bool
	// alone: the comment stands on a line of its own, so it also covers
	// the line below; a trailing comment covers only its own line.
	alone bool
}

// DefineFlags defines the flags a reporting analyzer reads here: -nolint,
// whether //nolint comments silence reports. golangci-lint's plugin turns it
// off, since golangci-lint applies //nolint itself (and its nolintlint
// would call every //nolint:mprace unused if the analyzer dropped them).
func DefineFlags(fs *flag.FlagSet) {
	fs.Bool("nolint", true, "honour //nolint:mprace comments (golangci-lint applies them itself)")
}

func (r *Reporter) obeyNolint() bool {
	f := r.pass.Analyzer.Flags.Lookup("nolint")
	return f == nil || f.Value.String() != "false"
}

// New returns a Reporter for pass.
func New(pass *analysis.Pass) *Reporter {
	return &Reporter{pass: pass}
}

// Pass returns the pass being reported on.
func (r *Reporter) Pass() *analysis.Pass { return r.pass }

// Report reports msg at pos unless the line carries (or follows a line that
// holds only) //mprace:ignore with a reason, or //nolint naming mprace.
func (r *Reporter) Report(pos, end token.Pos, category, msg string, fixes ...analysis.SuggestedFix) {
	r.ReportRelated(pos, end, category, msg, nil, fixes...)
}

// ReportRelated is Report with secondary positions (the read of a race).
func (r *Reporter) ReportRelated(pos, end token.Pos, category, msg string, related []analysis.RelatedInformation, fixes ...analysis.SuggestedFix) {
	posn := r.pass.Fset.Position(pos)
	if s, ok := r.suppressed(posn); ok {
		if s.reason != "" || (s.nolint && r.obeyNolint()) {
			return
		}
		if !s.nolint {
			msg += " (//mprace:ignore silences this only with a reason after it)"
		}
	}
	k := said{pos, category, msg}
	if r.said[k] {
		return
	}
	if r.said == nil {
		r.said = make(map[said]bool)
	}
	r.said[k] = true
	r.pass.Report(analysis.Diagnostic{Pos: pos, End: end, Category: category, Message: msg, Related: related, SuggestedFixes: fixes})
}

func (r *Reporter) suppressed(posn token.Position) (suppression, bool) {
	if r.ignores == nil {
		r.ignores = make(map[string]map[int]suppression)
		for _, f := range r.pass.Files {
			var code map[int]token.Pos // first code on each line, built on first need
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					s, ok := parseSuppression(c.Text)
					if !ok {
						continue
					}
					if code == nil {
						code = firstCode(r.pass.Fset, f)
					}
					p := r.pass.Fset.Position(c.Slash)
					first, ok := code[p.Line]
					s.alone = !ok || first > c.Slash
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
	if s, ok := lines[posn.Line-1]; ok && s.alone {
		return s, true
	}
	return suppression{}, false
}

// firstCode maps each line of f to the position of the first syntax on it
// (comments aside).
func firstCode(fset *token.FileSet, f *ast.File) map[int]token.Pos {
	first := make(map[int]token.Pos)
	mark := func(p token.Pos) {
		if !p.IsValid() {
			return
		}
		line := fset.Position(p).Line
		if q, ok := first[line]; !ok || p < q {
			first[line] = p
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n.(type) {
		case nil, *ast.Comment, *ast.CommentGroup:
			return false
		}
		mark(n.Pos())
		mark(n.End() - 1)
		return true
	})
	return first
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
	r.indexNodes()
	return r.calls[lparen]
}

// indexNodes maps, once, the positions go/ssa gives instructions to the
// expressions they come from: calls by their parenthesis, selectors by the
// selected name, index expressions by their bracket.
func (r *Reporter) indexNodes() {
	if r.calls != nil {
		return
	}
	r.calls = make(map[token.Pos]*ast.CallExpr)
	r.sels = make(map[token.Pos]*ast.SelectorExpr)
	r.indexes = make(map[token.Pos]*ast.IndexExpr)
	for _, f := range r.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				r.calls[n.Lparen] = n
			case *ast.SelectorExpr:
				r.sels[n.Sel.Pos()] = n
			case *ast.IndexExpr:
				r.indexes[n.Lbrack] = n
			}
			return true
		})
	}
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
