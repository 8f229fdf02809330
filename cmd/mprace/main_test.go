package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/internal/testmodule"
)

// mprace is the command built once for the tests that run it as a user
// (and go vet) would.
var mprace string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mprace-test")
	if err != nil {
		panic(err)
	}
	mprace = filepath.Join(dir, "mprace")
	// A build ID of its own: go vet caches a vet tool's results by the
	// tool's content, and a result cached while a package was only a
	// dependency (no output) would hide its findings from a later vet
	// (and the other way round).
	buildID := fmt.Sprintf("-ldflags=-buildid=mprace-test-%d", time.Now().UnixNano())
	if out, err := exec.Command("go", "build", buildID, "-o", mprace, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	status         int
}

func runIn(t *testing.T, dir string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), status}
}

const fixable = `package p

import "sync/atomic"

var hits atomic.Int64

func Hit() {
	hits.Store(hits.Load() + 1)
}
`

const unfixable = `package q

import "sync/atomic"

var hits atomic.Int64

func Scale() {
	hits.Store(hits.Load() * 2)
}
`

const clean = `package c

import "sync/atomic"

var hits atomic.Int64

func Hit() { hits.Add(1) }
`

// trailing has a trailing directive on one line and a different race on
// the next: only the first is silenced.
const trailing = `package s

import "sync/atomic"

var a, b, c, d atomic.Int64

func F() {
	a.Store(a.Load() * 2) //mprace:ignore only one goroutine writes a
	b.Store(b.Load() * 2)
}

func G() {
	c.Store(c.Load() * 2) //nolint:mprace // statistics
	d.Store(d.Load() * 2)
}
`

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if got := help([]string{"nosuchcheck"}, &out, &errOut); got != exitUsage {
		t.Errorf("help(nosuchcheck) = %d, want %d", got, exitUsage)
	}
	if got := help([]string{"readmodifywrite", "checkthenact"}, &out, &errOut); got != exitClean {
		t.Errorf("help(readmodifywrite checkthenact) = %d, want 0", got)
	}
	r := runIn(t, ".", mprace, "help", "flags")
	for _, want := range []string{"-json", "-sarif", "-fix", "-diff", "-test", "Exit status"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("mprace help flags does not mention %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "-V") || strings.Contains(r.stdout, "cpuprofile") || r.status != 0 {
		t.Errorf("mprace help flags prints another driver's flags or fails (%d):\n%s", r.status, r.stdout)
	}
}

func TestExitStatus(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"p/p.go": fixable, "c/c.go": clean})
	for _, args := range [][]string{{"./p"}, {"-json", "./p"}, {"-sarif", "./p"}} {
		if r := runIn(t, dir, mprace, args...); r.status != exitFindings {
			t.Errorf("mprace %v: status %d, want %d\n%s", args, r.status, exitFindings, r.stderr)
		}
	}
	for _, args := range [][]string{{"./c"}, {"-json", "./c"}, {"-sarif", "./c"}} {
		if r := runIn(t, dir, mprace, args...); r.status != exitClean {
			t.Errorf("mprace %v: status %d, want 0\n%s", args, r.status, r.stderr)
		}
	}
	r := runIn(t, dir, mprace, "-json", "./p")
	var tree map[string]map[string][]struct{ Posn, Message string }
	if err := json.Unmarshal([]byte(r.stdout), &tree); err != nil {
		t.Fatalf("-json output: %v\n%s", err, r.stdout)
	}
	if diags := tree["example.com/m/p"]["readmodifywrite"]; len(diags) != 1 || !strings.HasSuffix(diags[0].Posn, "p.go:8:2") {
		t.Errorf("-json: %+v, want one readmodifywrite at p.go:8:2", tree)
	}
	if r := runIn(t, dir, mprace, "-json", "-sarif", "./p"); r.status != exitUsage {
		t.Errorf("-json -sarif: status %d, want %d", r.status, exitUsage)
	}
	bad := testmodule.Write(t, map[string]string{"b/b.go": "package b\n\nvar x int = \"s\"\n"})
	if r := runIn(t, bad, mprace, "./b"); r.status != exitErrors || !strings.Contains(r.stderr, "cannot use") {
		t.Errorf("type error: status %d, want %d, stderr:\n%s", r.status, exitErrors, r.stderr)
	}
}

func TestDiffChangesNothing(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"p/p.go": fixable})
	r := runIn(t, dir, mprace, "-diff", "./p")
	if r.status != exitFindings || !strings.Contains(r.stdout, "-\thits.Store(hits.Load() + 1)\n+\thits.Add(1)\n") {
		t.Errorf("-diff: status %d, stdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
	}
	if src, _ := os.ReadFile(filepath.Join(dir, "p", "p.go")); string(src) != fixable {
		t.Errorf("-diff changed the file:\n%s", src)
	}
}

func TestFixReportsWhatRemains(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"p/p.go": fixable, "q/q.go": unfixable})
	r := runIn(t, dir, mprace, "-fix", "./...")
	if r.status != exitFindings {
		t.Errorf("-fix with an unfixable finding: status %d, want %d", r.status, exitFindings)
	}
	if !strings.Contains(r.stderr, "fixed 1 of 2 findings") || !strings.Contains(r.stderr, "q.go:8:2: non-atomic read-modify-write of hits") {
		t.Errorf("-fix stderr does not say what it fixed and what remains:\n%s", r.stderr)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "p", "p.go"))
	if !strings.Contains(string(src), "\thits.Add(1)\n") {
		t.Errorf("-fix did not fix p.go:\n%s", src)
	}
	if r := runIn(t, dir, mprace, "-fix", "./p"); r.status != exitClean {
		t.Errorf("-fix on the fixed package: status %d, want 0\n%s", r.status, r.stderr)
	}
	dir = testmodule.Write(t, map[string]string{"p/p.go": fixable})
	if r := runIn(t, dir, mprace, "-fix", "./p"); r.status != exitClean || !strings.Contains(r.stderr, "fixed 1 of 1") {
		t.Errorf("-fix of every finding: status %d, want 0\n%s", r.status, r.stderr)
	}
}

// TestTrailingDirective: standalone and under go vet, a trailing directive
// does not silence a race on the next line.
func TestTrailingDirective(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"s/s.go": trailing})
	lines := func(out string) []string {
		var got []string
		for _, m := range regexp.MustCompile(`s\.go:(\d+):\d+: non-atomic`).FindAllStringSubmatch(out, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		return got
	}
	want := []string{"14", "9"}
	r := runIn(t, dir, mprace, "./s")
	if got := lines(r.stderr); !slices.Equal(got, want) {
		t.Errorf("standalone reports lines %v, want %v:\n%s", got, want, r.stderr)
	}
	r = runIn(t, dir, "go", "vet", "-vettool="+mprace, "./s")
	if got := lines(r.stderr); !slices.Equal(got, want) {
		t.Errorf("go vet reports lines %v, want %v:\n%s", got, want, r.stderr)
	}
}
