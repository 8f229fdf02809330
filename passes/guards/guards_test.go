package guards_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/guards"
)

func Test(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.Run(t, dir, guards.Analyzer, "./builder/guardfacts")
}
