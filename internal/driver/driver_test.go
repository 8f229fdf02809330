package driver_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/driver"
	"github.com/mprace/mprace/internal/testmodule"
)

func fixtures(t *testing.T) string {
	t.Helper()
	return filepath.Join(testmodule.Root(t), "testdata", "fixtures")
}

func newDriver(t *testing.T) *driver.Driver {
	t.Helper()
	d, err := driver.New(analyzer.Suite())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// findings lists results' diagnostics as "file:line:col: check: message".
func findings(t *testing.T, results []driver.PackageResult) []string {
	t.Helper()
	var out []string
	for _, r := range results {
		if len(r.Errors) > 0 {
			t.Errorf("%s: unexpected errors %v", r.ID, r.Errors)
		}
		for _, d := range r.Diagnostics {
			out = append(out, fmt.Sprintf("%s: %s: %s", d.Posn, d.Check, d.Message))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestMatchesChecker compares the driver's findings on every fixture with
// those of x/tools' checker, which keeps the whole program in memory.
func TestMatchesChecker(t *testing.T) {
	dir := fixtures(t)
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	graph, err := checker.Analyze(analyzer.Suite(), pkgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, act := range graph.Roots {
		if act.Err != nil {
			t.Fatalf("checker: %v", act.Err)
		}
		if !slices.Contains(analyzer.Suite(), act.Analyzer) {
			continue
		}
		for _, d := range act.Diagnostics {
			want = append(want, fmt.Sprintf("%s: %s: %s", act.Package.Fset.Position(d.Pos), act.Analyzer.Name, d.Message))
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)

	d := newDriver(t)
	results, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: []string{"./..."}})
	if err != nil {
		t.Fatal(err)
	}
	got := findings(t, results)
	if len(want) < 20 {
		t.Fatalf("checker found only %d findings in the fixtures: %q", len(want), want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("driver and checker differ\nonly driver:\n%s\nonly checker:\n%s",
			strings.Join(minus(got, want), "\n"), strings.Join(minus(want, got), "\n"))
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

const libSrc = `package lib

import "sync/atomic"

type Counter struct{ n atomic.Int64 }

func (c *Counter) Get() int64  { return c.n.Load() }
func (c *Counter) Set(v int64) { c.n.Store(v) }
`

// libNoAccessor has the same API, but Get no longer reads the cell.
const libNoAccessor = `package lib

import "sync/atomic"

type Counter struct{ n atomic.Int64 }

func (c *Counter) Get() int64  { return 7 }
func (c *Counter) Set(v int64) { c.n.Store(v) }
`

const useSrc = `package use

import "example.com/m/lib"

func Inc(c *lib.Counter) {
	c.Set(c.Get() + 1)
}
`

func run(t *testing.T, d *driver.Driver, dir string, overlay map[string][]byte, patterns ...string) []driver.PackageResult {
	t.Helper()
	results, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: patterns, Overlay: overlay})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func count(results []driver.PackageResult) int {
	n := 0
	for _, r := range results {
		n += len(r.Diagnostics)
	}
	return n
}

// TestCacheAndOverlay: a second run reuses every package; an overlay that
// changes a dependency's facts re-analyses it and its importer, and the
// importer's finding goes; the file on disk is not read for it.
func TestCacheAndOverlay(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"lib/lib.go": libSrc, "use/use.go": useSrc})
	d := newDriver(t)
	res := run(t, d, dir, nil, "./use")
	if len(res) != 1 || count(res) != 1 {
		t.Fatalf("first run: %+v, want one finding in use", res)
	}
	diag := res[0].Diagnostics[0]
	if want := filepath.Join(dir, "use", "use.go"); diag.Posn.Filename != want || diag.Posn.Line != 6 || diag.Posn.Column != 2 {
		t.Errorf("finding at %s, want %s:6:2", diag.Posn, want)
	}
	if len(diag.Related) == 0 || diag.Related[0].Posn.Line != 6 {
		t.Errorf("finding's related positions %+v, want the read on line 6", diag.Related)
	}
	first := d.LastStats()
	if first.Analysed != first.Packages || first.Packages < 3 {
		t.Errorf("first run stats %+v: want every package analysed", first)
	}

	run(t, d, dir, nil, "./use")
	if s := d.LastStats(); s.Analysed != 0 {
		t.Errorf("unchanged second run analysed %d packages, want 0", s.Analysed)
	}

	libFile := filepath.Join(dir, "lib", "lib.go")
	res = run(t, d, dir, map[string][]byte{libFile: []byte(libNoAccessor)}, "./use")
	if s := d.LastStats(); s.Analysed != 2 {
		t.Errorf("after editing lib: analysed %d packages, want 2 (lib and use)", s.Analysed)
	}
	if count(res) != 0 {
		t.Errorf("Get no longer reads the cell, but use still has findings: %+v", res[0].Diagnostics)
	}

	// A comment-only edit of lib changes neither its types nor its facts:
	// use is not re-analysed.
	res = run(t, d, dir, map[string][]byte{libFile: []byte(libSrc + "// a comment\n")}, "./use")
	if count(res) != 1 {
		t.Errorf("lib restored with a comment: %d findings, want 1", count(res))
	}
	res = run(t, d, dir, map[string][]byte{libFile: []byte(libSrc + "// another comment\n")}, "./use")
	if s := d.LastStats(); s.Analysed != 1 {
		t.Errorf("comment-only edit of lib: analysed %d packages, want 1 (lib)", s.Analysed)
	}
	if count(res) != 1 {
		t.Errorf("comment-only edit: %d findings, want 1", count(res))
	}
}

// TestOverlayFindingAndFix: an unsaved buffer with a race is analysed, not
// the file on disk, and the fix's edits apply to the buffer's bytes.
func TestOverlayFindingAndFix(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"p/p.go": "package p\n"})
	file := filepath.Join(dir, "p", "p.go")
	buf := "package p\n\nimport \"sync/atomic\"\n\nvar hits atomic.Int64\n\nfunc Hit() {\n\thits.Store(hits.Load() + 1)\n}\n"
	d := newDriver(t)
	res := run(t, d, dir, map[string][]byte{file: []byte(buf)}, "file="+file)
	if len(res) != 1 || count(res) != 1 {
		t.Fatalf("overlay: %+v, want one finding", res)
	}
	diag := res[0].Diagnostics[0]
	if diag.Check != "readmodifywrite" || diag.Posn.Line != 8 || diag.Posn.Offset != strings.Index(buf, "hits.Store") {
		t.Errorf("finding %+v, want readmodifywrite at line 8", diag)
	}
	if len(diag.Fixes) == 0 {
		t.Fatalf("no fix for %s", diag.Message)
	}
	fixed := []byte(buf)
	edits := diag.Fixes[0].Edits
	slices.SortFunc(edits, func(a, b driver.Edit) int { return b.Start - a.Start })
	for _, e := range edits {
		if e.Filename != file {
			t.Fatalf("edit of %s, want %s", e.Filename, file)
		}
		fixed = slices.Concat(fixed[:e.Start], e.NewText, fixed[e.End:])
	}
	if !strings.Contains(string(fixed), "\thits.Add(1)\n") {
		t.Errorf("fixed buffer:\n%s\nwant hits.Add(1)", fixed)
	}
	res = run(t, d, dir, map[string][]byte{file: fixed}, "file="+file)
	if count(res) != 0 {
		t.Errorf("fixed buffer still has findings: %+v", res[0].Diagnostics)
	}
	if got := run(t, d, dir, nil, "./p"); count(got) != 0 {
		t.Errorf("file on disk (no race) has findings: %+v", got[0].Diagnostics)
	}
}

// TestErrors: a package that does not type-check is reported with its
// errors and no diagnostics, its importer too, and fixing it brings the
// findings back.
func TestErrors(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"lib/lib.go": libSrc, "use/use.go": useSrc})
	libFile := filepath.Join(dir, "lib", "lib.go")
	useFile := filepath.Join(dir, "use", "use.go")
	d := newDriver(t)
	broken := strings.Replace(useSrc, "c.Set(c.Get() + 1)", "c.Set(c.Get() + 1)\n\tundefinedThing()", 1)
	res := run(t, d, dir, map[string][]byte{useFile: []byte(broken)}, "./use")
	if len(res) != 1 || len(res[0].Errors) == 0 || len(res[0].Diagnostics) != 0 {
		t.Fatalf("type error: %+v, want errors and no diagnostics", res)
	}
	if !strings.Contains(res[0].Errors[0].Msg, "undefinedThing") {
		t.Errorf("error %v does not name undefinedThing", res[0].Errors[0])
	}
	res = run(t, d, dir, map[string][]byte{libFile: []byte("package lib\n\nfunc (\n")}, "./use", "./lib")
	for _, r := range res {
		if len(r.Errors) == 0 || len(r.Diagnostics) != 0 {
			t.Errorf("%s with a syntax error in lib: %+v, want errors and no diagnostics", r.ID, r)
		}
	}
	if res := run(t, d, dir, nil, "./use"); count(res) != 1 || len(res[0].Errors) != 0 {
		t.Errorf("repaired: %+v, want one finding", res)
	}
	if _, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: []string{"./nosuchdir"}}); err == nil {
		res := run(t, d, dir, nil, "./nosuchdir")
		if len(res) == 0 || len(res[0].Errors) == 0 {
			t.Errorf("missing directory: %+v, want an error", res)
		}
	}
}

// TestCancel: a cancelled context stops the run with its error; the next
// run completes.
func TestCancel(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"lib/lib.go": libSrc, "use/use.go": useSrc})
	d := newDriver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Run(ctx, driver.Request{Dir: dir, Patterns: []string{"./use"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v, want context.Canceled", err)
	}
	if res := run(t, d, dir, nil, "./use"); count(res) != 1 {
		t.Errorf("run after a cancelled one: %d findings, want 1", count(res))
	}
}
