package checkthenact_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/checkthenact"
)

func TestGuarded(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.RunWithSuggestedFixes(t, dir, checkthenact.Analyzer, "./guarded/cta", "./guarded/lib", "./guarded/ctause")
}
