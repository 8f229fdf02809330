package checkthenact_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/checkthenact"
)

func Test(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.Run(t, dir, checkthenact.Analyzer, "./cta/...", "./accessor/lib", "./accessor/ctause")
}
