package lockcontext_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/lockcontext"
)

func Test(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.RunWithSuggestedFixes(t, dir, lockcontext.Analyzer, "./misuse/lockcontext")
}
