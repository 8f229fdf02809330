package readmodifywrite_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/mprace/mprace/passes/readmodifywrite"
)

func TestGuarded(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, fixtures(t), readmodifywrite.Analyzer,
		"./guarded/rmw", "./guarded/lib", "./guarded/use")
}
