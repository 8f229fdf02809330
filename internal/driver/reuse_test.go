package driver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mprace/mprace/internal/driver"
	"github.com/mprace/mprace/internal/testmodule"
)

// TestReuseGraph checks when a Reuse Run lists the packages again: not for
// an edit of a buffer's body, but for a changed import, a file added to a
// package directory, and an import changed on disk behind the editor's back
// (caught by the errors it causes), with the same findings as a fresh Run.
func TestReuseGraph(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{
		"a/a.go": "package a\n\nimport (\n\t\"sync/atomic\"\n\n\t\"example.com/m/b\"\n)\n\nvar n atomic.Int64\n\nfunc Inc() { b.B(); n.Store(n.Load() + 1) }\n",
		"b/b.go": "package b\n\nfunc B() {}\n",
	})
	a := filepath.Join(dir, "a", "a.go")
	src, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	d := newDriver(t)
	step := func(name string, overlay string, wantReused bool, wantFindings int) {
		t.Helper()
		results, err := d.Run(context.Background(), driver.Request{
			Dir: dir, Patterns: []string{"file=" + a}, Overlay: map[string][]byte{a: []byte(overlay)}, Reuse: true,
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range results {
			if len(r.Errors) > 0 {
				t.Errorf("%s: errors %v", name, r.Errors)
			}
		}
		if got := d.LastStats().Reused; got != wantReused {
			t.Errorf("%s: graph reused %v, want %v", name, got, wantReused)
		}
		if got := count(results); got != wantFindings {
			t.Errorf("%s: %d findings, want %d", name, got, wantFindings)
		}
	}
	step("first", string(src), false, 1)
	body := string(src) + "\n// an edit below the imports\n"
	step("body edit", body, true, 1)
	withFmt := "package a\n\nimport (\n\t\"fmt\"\n\t\"sync/atomic\"\n\n\t\"example.com/m/b\"\n)\n\nvar n atomic.Int64\n\nfunc Inc() { b.B(); fmt.Println(); n.Store(n.Load() + 1) }\n"
	step("import added", withFmt, false, 1)
	step("same again", withFmt, true, 1)
	writeFile(t, filepath.Join(dir, "a", "extra.go"), "package a\n\nfunc Dec() { n.Store(n.Load() - 1) }\n")
	step("file added on disk", withFmt, false, 2)
	writeFile(t, filepath.Join(dir, "b", "b.go"), "package b\n\nimport \"strings\"\n\nfunc B() { strings.ToUpper(\"\") }\n")
	step("import changed on disk", withFmt, false, 2)
	step("after it", withFmt, true, 2)

	// Without Reuse every Run lists the packages.
	for range 2 {
		if _, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: []string{"file=" + a}}); err != nil {
			t.Fatal(err)
		}
		if d.LastStats().Reused {
			t.Error("a Run without Reuse reused the graph")
		}
	}
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}
