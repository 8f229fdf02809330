package rawtype_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/rawtype"
)

func Test(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.Run(t, dir, rawtype.Analyzer, "./misuse/rawtype")
}
