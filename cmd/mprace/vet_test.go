package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mprace/mprace/internal/testmodule"
)

// findingSet reads the go/analysis JSON tree (mprace -json, or go vet -json
// with its "# package" headers) as the sorted set of "posn: message".
func findingSet(t *testing.T, out []byte) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	dec := json.NewDecoder(strings.NewReader(strings.Join(lines, "\n")))
	var set []string
	for {
		var tree map[string]map[string]json.RawMessage
		if err := dec.Decode(&tree); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading JSON findings: %v", err)
		}
		for id, byAnalyzer := range tree {
			for name, raw := range byAnalyzer {
				var diags []struct{ Posn, Message string }
				if err := json.Unmarshal(raw, &diags); err != nil {
					t.Errorf("%s: %s: %s", id, name, raw)
					continue
				}
				for _, d := range diags {
					set = append(set, d.Posn+": "+d.Message)
				}
			}
		}
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// TestAgreesWithVet: the standalone driver finds what go vet -vettool finds
// (go vet also analyses one package at a time, with facts). On the fixtures
// by default; scripts/compare-vet.sh runs it on std with MPRACE_COMPARE=std.
func TestAgreesWithVet(t *testing.T) {
	dir := filepath.Join(testmodule.Root(t), "testdata", "fixtures")
	pattern := "./..."
	if p := os.Getenv("MPRACE_COMPARE"); p != "" {
		dir, pattern = t.TempDir(), p
	}
	vet := exec.Command("go", "vet", "-vettool="+mprace, "-json", pattern)
	vet.Dir = dir
	var vetOut bytes.Buffer
	vet.Stdout, vet.Stderr = &vetOut, &vetOut // the JSON, and "# package" headers
	if err := vet.Run(); err != nil {
		t.Fatalf("go vet: %v\n%s", err, vetOut.String())
	}
	ours := exec.Command(mprace, "-json", pattern)
	ours.Dir = dir
	out, err := ours.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != exitFindings) {
		t.Fatalf("mprace -json: %v\n%s", err, out)
	}
	want, got := findingSet(t, vetOut.Bytes()), findingSet(t, out)
	if len(want) == 0 && pattern == "./..." {
		t.Fatal("go vet found nothing in the fixtures")
	}
	if !slices.Equal(got, want) {
		var onlyOurs, onlyVet []string
		for _, f := range got {
			if !slices.Contains(want, f) {
				onlyOurs = append(onlyOurs, f)
			}
		}
		for _, f := range want {
			if !slices.Contains(got, f) {
				onlyVet = append(onlyVet, f)
			}
		}
		t.Errorf("mprace and go vet differ on %s\nonly mprace:\n%s\nonly go vet:\n%s", pattern,
			strings.Join(onlyOurs, "\n"), strings.Join(onlyVet, "\n"))
	}
	t.Logf("%d findings in %s, the same from mprace and go vet", len(got), pattern)
}
