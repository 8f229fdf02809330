// Package testmodule writes throwaway Go modules for tests: a go.mod that
// uses runtime/mp from this repository through a replace directive, and the
// given files.
package testmodule

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository's root directory.
func Root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testmodule: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Write creates a module named example.com/m in a temporary directory with
// files (slash-separated paths relative to the module root) and returns
// the directory.
func Write(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	root := Root(t)
	sum, err := os.ReadFile(filepath.Join(root, "testdata", "fixtures", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26.8\n\nreplace github.com/mprace/mprace => " + root +
			"\n\nrequire github.com/mprace/mprace v0.0.0-00010101000000-000000000000\n\nrequire golang.org/x/sys v0.50.0 // indirect\n",
		"go.sum": string(sum),
	}
	for name, src := range files {
		all[name] = src
	}
	for name, src := range all {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
