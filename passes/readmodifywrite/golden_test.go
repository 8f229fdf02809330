package readmodifywrite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestGoldenCompiles type-checks every fixture package with its files
// replaced by their .golden forms: a suggested fix must leave code that
// builds, which the golden comparison alone does not show.
func TestGoldenCompiles(t *testing.T) {
	dir := fixtures(t)
	goldens, err := filepath.Glob(filepath.Join(dir, "rmw", "*", "*.go.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) == 0 {
		t.Fatal("no golden files found")
	}
	overlay := make(map[string][]byte)
	pkgDirs := make(map[string]bool)
	for _, g := range goldens {
		src, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		overlay[strings.TrimSuffix(g, ".golden")] = src
		pkgDirs["./"+filepath.ToSlash(mustRel(t, dir, filepath.Dir(g)))] = true
	}
	var patterns []string
	for p := range pkgDirs {
		patterns = append(patterns, p)
	}
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: dir, Overlay: overlay, Tests: false}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != len(patterns) {
		t.Fatalf("loaded %d packages for %d fixture directories", len(pkgs), len(patterns))
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Errorf("%s with its fixes applied: %v", p.PkgPath, e)
		}
	}
}

func mustRel(t *testing.T, base, target string) string {
	t.Helper()
	rel, err := filepath.Rel(base, target)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
