package analyzer_test

import (
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/analyzer"
)

func TestChecksDocumented(t *testing.T) {
	if err := analysis.Validate(analyzer.Suite()); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, c := range analyzer.Checks {
		if seen[c.Name()] {
			t.Errorf("check %s listed twice", c.Name())
		}
		seen[c.Name()] = true
		for field, v := range map[string]string{"Title": c.Title, "Why": c.Why, "Bad": c.Bad,
			"Good": c.Good, "Since": c.Since, "Severity": c.Severity} {
			if strings.TrimSpace(v) == "" {
				t.Errorf("check %s has no %s", c.Name(), field)
			}
		}
		doc := c.Doc()
		for _, part := range []string{c.Name() + ": " + c.Title, "Why it is a race:", "Reported:", "Fixed:", "//mprace:ignore"} {
			if !strings.Contains(doc, part) {
				t.Errorf("Doc of %s lacks %q", c.Name(), part)
			}
		}
		got, ok := analyzer.Lookup(c.Name())
		if !ok || got.Analyzer != c.Analyzer {
			t.Errorf("Lookup(%q) = %v, %v", c.Name(), got.Name(), ok)
		}
	}
	if _, ok := analyzer.Lookup("nosuchcheck"); ok {
		t.Error("Lookup found a check that does not exist")
	}
}
