package golangci_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mprace/mprace/internal/testmodule"
)

// The source golangci-lint is run on: line numbers matter.
const gclSrc = `package p

import "sync/atomic"

var a, b, c, d, ready atomic.Int64

func RMW() {
	a.Store(a.Load() * 2)
}

func Nolint() {
	b.Store(b.Load() * 2) //nolint:mprace // deliberate: statistics
	c.Store(c.Load() * 2)
}

func CTA() {
	if ready.Load() == 0 {
		ready.Store(1)
	}
}

func Ignored() {
	d.Store(d.Load() * 2) //mprace:ignore only the owner writes d
}
`

const gclConfig = `version: "2"
linters:
  default: none
  enable: [mprace, nolintlint]
  settings:
    nolintlint:
      require-explanation: true
      require-specific: true
    custom:
      mprace:
        type: module
        description: races on shared cells (runtime/mp, sync/atomic)
        original-url: github.com/mprace/mprace
        settings:
          disable: [DISABLED]
`

type issue struct {
	FromLinter string
	Text       string
	Pos        struct {
		Filename string
		Line     int
	}
}

// golangciLint builds golangci-lint with the plugin (scripts/build-golangci-lint.sh,
// from the module proxy, no git) and returns its path.
func golangciLint(t *testing.T) string {
	t.Helper()
	root := testmodule.Root(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-golangci-lint.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building golangci-lint with the plugin: %v\n%s", err, out)
	}
	return filepath.Join(root, "bin", "golangci-lint-mprace")
}

// lint runs golangci-lint in a module holding gclSrc with disable as the
// plugin's disable list, and returns its issues.
func lint(t *testing.T, bin, disable string, extra ...string) []issue {
	t.Helper()
	dir := testmodule.Write(t, map[string]string{
		"p/p.go":        gclSrc,
		".golangci.yml": strings.Replace(gclConfig, "DISABLED", disable, 1),
	})
	args := append([]string{"run", "--output.json.path=stdout", "--show-stats=false"}, extra...)
	cmd := exec.Command(bin, append(args, "./...")...)
	cmd.Dir = dir
	// A cache of its own: golangci-lint's cache outlives a rebuilt plugin.
	cmd.Env = append(os.Environ(), "GOLANGCI_LINT_CACHE="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("golangci-lint %v: %v\n%s\n%s", args, err, stdout.String(), stderr.String())
	}
	var out struct{ Issues []issue }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("golangci-lint output: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return out.Issues
}

func summary(issues []issue) []string {
	var out []string
	for _, is := range issues {
		kind := "other"
		switch {
		case strings.Contains(is.Text, "read-modify-write"):
			kind = "readmodifywrite"
		case strings.Contains(is.Text, "check-then-act"):
			kind = "checkthenact"
		}
		out = append(out, fmt.Sprintf("%s %s %s:%02d", is.FromLinter, kind, filepath.Base(is.Pos.Filename), is.Pos.Line))
	}
	slices.Sort(out)
	return out
}

// TestGolangciLint builds golangci-lint v2 with the plugin and checks its
// findings, //nolint:mprace (applied by golangci-lint, and not called
// unused by nolintlint), a trailing directive not covering the next line,
// disable: [checkthenact], --fast-only and the linter's description.
func TestGolangciLint(t *testing.T) {
	bin := golangciLint(t)

	got := summary(lint(t, bin, ""))
	want := []string{
		"mprace checkthenact p.go:18",
		"mprace readmodifywrite p.go:08",
		"mprace readmodifywrite p.go:13",
	}
	if !slices.Equal(got, want) {
		t.Errorf("golangci-lint issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	got = summary(lint(t, bin, "checkthenact"))
	if want := want[1:]; !slices.Equal(got, want) {
		t.Errorf("with disable: [checkthenact]:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if got := lint(t, bin, "", "--fast-only"); len(got) != 0 {
		t.Errorf("--fast-only still runs mprace: %v", summary(got))
	}

	dir := testmodule.Write(t, map[string]string{".golangci.yml": strings.Replace(gclConfig, "DISABLED", "", 1)})
	cmd := exec.Command(bin, "linters")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "mprace: Races on shared cells") {
		t.Errorf("golangci-lint linters (%v) does not describe mprace:\n%s", err, out)
	}
}
