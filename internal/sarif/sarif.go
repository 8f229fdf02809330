// Package sarif writes the driver's results as one SARIF 2.1.0 log, the
// format code-scanning services (GitHub's among them) read: a rule per
// check, a result per finding with its location, the read as a related
// location, and suggested fixes as byte-range replacements.
package sarif

import (
	"fmt"
	"go/token"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	gosarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/driver"
)

// srcRoot names the directory file URIs are relative to (the working
// directory of the run), as code-scanning uploads expect.
const srcRoot = "%SRCROOT%"

// Write writes results as a SARIF log to w. Files under root are named
// relative to it; root itself is recorded as the %SRCROOT% base.
func Write(w io.Writer, results []driver.PackageResult, root string) error {
	run := gosarif.NewRunWithInformationURI("mprace", "https://pkg.go.dev/github.com/mprace/mprace/cmd/mprace")
	run.ColumnKind = ptr("unicodeCodePoints")
	run.OriginalUriBaseIds = map[string]gosarif.ArtifactLocation{
		srcRoot: *gosarif.NewArtifactLocation().WithURI(dirURI(root)),
	}
	for _, c := range analyzer.Checks {
		run.AddRule(c.Name()).
			WithShortDescription(gosarif.NewMultiformatMessageString().WithText(c.Title)).
			WithFullDescription(gosarif.NewMultiformatMessageString().WithText(c.Why)).
			WithHelp(gosarif.NewMultiformatMessageString().WithText(c.Doc())).
			WithHelpURI(c.Analyzer.URL).
			WithDefaultConfiguration(gosarif.NewReportingConfiguration().WithLevel(level(c.Severity)))
	}
	l := locator{root: root, src: make(map[string][]byte)}
	inv := gosarif.NewInvocation().WithExecutionSuccessful(true)
	seen := make(map[string]bool)
	for _, r := range results {
		for _, e := range r.Errors {
			inv.AddToolExecutionNotification(gosarif.NewNotification().
				WithLevel("error").
				WithMessage(gosarif.NewTextMessage(fmt.Sprintf("%s: %s", r.ID, e))))
		}
		for _, d := range r.Diagnostics {
			// A file shared by a package and its test variant is reported once.
			k := fmt.Sprintf("%s\x00%s\x00%s", d.Check, d.Posn, d.Message)
			if seen[k] {
				continue
			}
			seen[k] = true
			res := run.CreateResultForRule(d.Check).
				WithLevel(level(severity(d.Check))).
				WithMessage(gosarif.NewTextMessage(d.Message)).
				AddLocation(l.location(d.Posn, d.End))
			for i, rel := range d.Related {
				res.AddRelatedLocation(l.location(rel.Posn, rel.End).
					WithID(i + 1).
					WithMessage(gosarif.NewTextMessage(rel.Message)))
			}
			for _, f := range d.Fixes {
				res.AddFixe(l.fix(f))
			}
		}
	}
	run.AddInvocation(inv)
	rep := gosarif.NewReport()
	rep.AddRun(run)
	if err := rep.PrettyWrite(w); err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func ptr[T any](v T) *T { return &v }

func severity(check string) string {
	if c, ok := analyzer.Lookup(check); ok {
		return c.Severity
	}
	return "warning"
}

// level maps a check's severity to a SARIF level.
func level(severity string) string {
	switch severity {
	case "error", "warning", "note":
		return severity
	}
	return "warning"
}

func dirURI(dir string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

// locator turns driver positions into SARIF locations.
type locator struct {
	root string
	src  map[string][]byte // file contents, to count columns in code points
}

func (l *locator) artifact(file string) *gosarif.ArtifactLocation {
	if rel, err := filepath.Rel(l.root, file); err == nil && filepath.IsLocal(rel) {
		u := url.URL{Path: filepath.ToSlash(rel)}
		return gosarif.NewArtifactLocation().WithURI(u.String()).WithURIBaseID(srcRoot)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(file)}
	return gosarif.NewArtifactLocation().WithURI(u.String())
}

func (l *locator) location(posn, end token.Position) *gosarif.Location {
	region := gosarif.NewRegion().WithStartLine(posn.Line).WithStartColumn(l.column(posn))
	if end.IsValid() && end.Filename == posn.Filename && end.Offset >= posn.Offset {
		region.WithEndLine(end.Line).WithEndColumn(l.column(end))
	}
	return gosarif.NewLocationWithPhysicalLocation(gosarif.NewPhysicalLocation().
		WithArtifactLocation(l.artifact(posn.Filename)).
		WithRegion(region))
}

// column converts p's byte column to code points, as the run declares.
func (l *locator) column(p token.Position) int {
	src, ok := l.src[p.Filename]
	if !ok {
		src, _ = os.ReadFile(p.Filename)
		l.src[p.Filename] = src
	}
	start := p.Offset - (p.Column - 1)
	if start < 0 || p.Offset > len(src) {
		return p.Column
	}
	return utf8.RuneCount(src[start:p.Offset]) + 1
}

func (l *locator) fix(f driver.Fix) *gosarif.Fix {
	fix := gosarif.NewFix().WithDescription(gosarif.NewTextMessage(f.Message))
	changes := make(map[string]*gosarif.ArtifactChange)
	for _, e := range f.Edits {
		ch := changes[e.Filename]
		if ch == nil {
			ch = gosarif.NewArtifactChange().WithArtifactLocation(l.artifact(e.Filename))
			changes[e.Filename] = ch
			fix.AddArtifactChange(ch)
		}
		ch.AddReplacement(gosarif.NewReplacement().
			WithDeletedRegion(gosarif.NewRegion().WithByteOffset(e.Start).WithByteLength(e.End - e.Start)).
			WithInsertedContent(gosarif.NewArtifactContent().WithText(string(e.NewText))))
	}
	return fix
}
