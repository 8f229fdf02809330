package readmodifywrite_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/readmodifywrite"
)

func Test(t *testing.T) {
	dir := fixtures(t)
	analysistest.RunWithSuggestedFixes(t, dir, readmodifywrite.Analyzer, "./rmw/...", "./accessor/lib", "./accessor/rmwuse")
}

// fixtures returns the absolute path of the fixture module.
func fixtures(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
