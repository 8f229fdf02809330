package lsp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/driver"
)

// analysis runs the driver for the session, one run at a time, in a
// goroutine of its own. Its due set is guarded by the session's lock.
type analysis struct {
	s   *session
	drv *driver.Driver

	due   map[string]time.Time // file → when to analyse its package
	kick  chan struct{}
	done  sync.WaitGroup
	roots map[string]string // directory → its module root
}

func newAnalysis(s *session) (*analysis, error) {
	drv, err := driver.New(analyzer.Suite())
	if err != nil {
		return nil, fmt.Errorf("lsp: %w", err)
	}
	return &analysis{s: s, drv: drv, due: map[string]time.Time{}, kick: make(chan struct{}, 1), roots: map[string]string{}}, nil
}

// schedule asks for path's package to be analysed after a delay; a later
// request replaces the delay (debouncing edits), but never postpones an
// analysis already due. s.mu is held.
func (a *analysis) schedule(path string, after time.Duration) {
	now := time.Now()
	if t, ok := a.due[path]; !ok || t.After(now) {
		a.due[path] = now.Add(after)
	}
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// wait waits for the loop to stop (its context is cancelled first).
func (a *analysis) wait() { a.done.Wait() }

// start starts the loop that runs the analyses until ctx is done.
func (a *analysis) start(ctx context.Context) {
	a.done.Add(1)
	go a.loop(ctx)
}

func (a *analysis) loop(ctx context.Context) {
	defer a.done.Done()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
		case <-wake.C:
		}
		for {
			files, snap, next := a.take()
			if len(files) == 0 {
				if !next.IsZero() {
					wake.Reset(time.Until(next))
				}
				break
			}
			a.run(ctx, files, snap)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// snapshot is the editor's buffers at the start of a run.
type snapshot struct {
	overlay  map[string][]byte
	versions map[string]int32
	open     []string // open Go files
}

// take removes the files now due, with a snapshot of the buffers, or
// returns when the next is due.
func (a *analysis) take() ([]string, snapshot, time.Time) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var files []string
	var next time.Time
	for p, t := range a.due {
		if !t.After(now) {
			files = append(files, p)
			delete(a.due, p)
		} else if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	sort.Strings(files)
	snap := snapshot{overlay: s.overlay(), versions: map[string]int32{}}
	for _, d := range s.docs {
		if isGo(d.path) {
			snap.versions[d.path] = d.version
			snap.open = append(snap.open, d.path)
		}
	}
	sort.Strings(snap.open)
	return files, snap, next
}

// run analyses the packages of files, with those of the other open files of
// their modules: the driver's cache makes the unchanged ones cheap, and
// re-analyses those that import a changed package.
func (a *analysis) run(ctx context.Context, files []string, snap snapshot) {
	byRoot := map[string][]string{}
	for _, f := range files {
		r := a.root(filepath.Dir(f))
		byRoot[r] = append(byRoot[r], f)
	}
	for root, due := range byRoot {
		patterns, tests := []string{}, false
		seen := map[string]bool{}
		for _, f := range append(append([]string{}, due...), snap.open...) {
			if seen[f] || a.root(filepath.Dir(f)) != root {
				continue
			}
			seen[f] = true
			patterns = append(patterns, "file="+f)
			tests = tests || strings.HasSuffix(f, "_test.go")
		}
		start := time.Now()
		results, err := a.drv.Run(ctx, driver.Request{Dir: root, Patterns: patterns, Tests: tests, Overlay: snap.overlay, Reuse: true})
		if ctx.Err() != nil {
			return
		}
		st := a.drv.LastStats()
		a.s.log.Printf("analysed %d files' packages in %s in %v (%d packages, %d analysed, graph reused: %v)", len(patterns), root, time.Since(start).Round(time.Millisecond), st.Packages, st.Analysed, st.Reused)
		a.publish(due, snap, results, err)
	}
}

// publish turns a run's results into each file's findings.
func (a *analysis) publish(due []string, snap snapshot, results []driver.PackageResult, err error) {
	s := a.s
	if err != nil && !errors.Is(err, driver.ErrNoPackages) {
		s.log.Printf("analysis: %v", err)
	}
	byFile := map[string][]driver.Diagnostic{}
	for _, f := range due {
		byFile[f] = nil // cleared unless analysed below
	}
	for _, r := range results {
		for _, f := range r.Files {
			if isGo(f) {
				byFile[f] = byFile[f]
			}
		}
		if len(r.Errors) > 0 {
			continue
		}
		for _, d := range r.Diagnostics {
			byFile[d.Posn.Filename] = append(byFile[d.Posn.Filename], d)
		}
	}
	isDue := map[string]bool{}
	for _, f := range due {
		isDue[f] = true
	}
	src := sources{overlay: snap.overlay, read: map[string][]byte{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for f, diags := range byFile {
		var version *int32
		if v, ok := snap.versions[f]; ok {
			version = &v
		}
		var fs []finding
		seen := map[string]bool{}
		for _, d := range diags {
			// A file in a package and its test variant is analysed twice.
			k := fmt.Sprintf("%s %d:%d %d:%d %s", d.Check, d.Posn.Line, d.Posn.Column, d.End.Line, d.End.Column, d.Message)
			if !seen[k] {
				seen[k] = true
				fs = append(fs, src.finding(d, s.enc))
			}
		}
		s.setFindings(uri.File(f), fs, version, isDue[f])
	}
}

// root returns the module root of dir (where go.mod is), or dir itself.
func (a *analysis) root(dir string) string {
	if r, ok := a.roots[dir]; ok {
		return r
	}
	r := dir
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			r = d
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	a.roots[dir] = r
	return r
}

// sources are the contents the driver analysed: the buffers of the
// snapshot, else the files on disk.
type sources struct {
	overlay map[string][]byte
	read    map[string][]byte
}

func (src sources) get(path string) []byte {
	if b, ok := src.overlay[path]; ok {
		return b
	}
	if b, ok := src.read[path]; ok {
		return b
	}
	b, _ := os.ReadFile(path)
	src.read[path] = b
	return b
}

// offset is the byte offset of a position, from its line and column (an
// offset is not always filled in).
func offsetOf(m *mapper, line, col int) int {
	if line < 1 || line > len(m.lines) {
		return len(m.text)
	}
	return min(m.lines[line-1]+max(col-1, 0), len(m.text))
}

func (src sources) span(path string, pl, pc, el, ec int, enc encoding) protocol.Range {
	m := newMapper(src.get(path), enc)
	start := offsetOf(m, pl, pc)
	end := start
	if el > 0 {
		end = max(start, offsetOf(m, el, ec))
	}
	return m.rangeOf(start, end)
}

// finding converts a driver diagnostic to LSP.
func (src sources) finding(d driver.Diagnostic, enc encoding) finding {
	diag := protocol.Diagnostic{
		Range:    src.span(d.Posn.Filename, d.Posn.Line, d.Posn.Column, d.End.Line, d.End.Column, enc),
		Severity: protocol.DiagnosticSeverityWarning,
		Code:     d.Check,
		Source:   "mprace",
		Message:  d.Message,
	}
	if c, ok := analyzer.Lookup(d.Check); ok {
		if c.Severity == "error" {
			diag.Severity = protocol.DiagnosticSeverityError
		}
		if c.Analyzer.URL != "" {
			diag.CodeDescription = &protocol.CodeDescription{Href: uri.URI(c.Analyzer.URL)}
		}
	}
	for _, r := range d.Related {
		diag.RelatedInformation = append(diag.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{
				URI:   uri.File(r.Posn.Filename),
				Range: src.span(r.Posn.Filename, r.Posn.Line, r.Posn.Column, r.End.Line, r.End.Column, enc),
			},
			Message: r.Message,
		})
	}
	f := finding{diag: diag}
	for _, fx := range d.Fixes {
		out := fix{title: fx.Message, edits: map[protocol.DocumentURI][]protocol.TextEdit{}, base: map[protocol.DocumentURI][]byte{}}
		for _, e := range fx.Edits {
			u := uri.File(e.Filename)
			text := src.get(e.Filename)
			m := newMapper(text, enc)
			out.edits[u] = append(out.edits[u], protocol.TextEdit{Range: m.rangeOf(e.Start, e.End), NewText: string(e.NewText)})
			out.base[u] = text
		}
		f.fixes = append(f.fixes, out)
	}
	return f
}
