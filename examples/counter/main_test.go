package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// The example is run as users run it: built, then started with flags.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "counter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var final = regexp.MustCompile(`(?m)\AFinal counter value: (\d+)\n\z`)

func runCounter(t *testing.T, bin string, args ...string) int {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("counter %v: %v\n%s", args, err, out)
	}
	m := final.FindSubmatch(out)
	if m == nil {
		t.Fatalf("counter %v printed %q, want one line \"Final counter value: N\"", args, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestCounter(t *testing.T) {
	bin := build(t)
	if out, _ := exec.Command(bin).Output(); string(out) != "Final counter value: 500\n" {
		t.Fatalf("counter with no flags printed %q", out)
	}
	if got := runCounter(t, bin, "-procs", "3", "-n", "20000"); got != 60000 {
		t.Fatalf("3 x 20000 locked increments gave %d", got)
	}
	// Without the lock, increments are lost: five processes on two cores
	// interleave their Load and Store, by parallelism or by preemption, many
	// times in ten million increments (a few milliseconds of work each).
	// Every Store writes a loaded value plus one, so the result is positive.
	if got := runCounter(t, bin, "-racy", "-procs", "5", "-n", "2000000"); got >= 10000000 || got < 1 {
		t.Fatalf("-racy gave %d, want between 1 and 9999999 (lost updates)", got)
	}
	if err := exec.Command(bin, "-procs", "0").Run(); err == nil {
		t.Fatal("-procs 0 succeeded")
	}
}
