package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

func TestPool(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pool")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin).CombinedOutput(); err != nil || string(out) != "[1 4 9]\n" {
		t.Fatalf("pool printed %q, %v; want \"[1 4 9]\\n\"", out, err)
	}
	if out, err := exec.Command(bin, "-n", "10000").CombinedOutput(); err != nil || string(out) != "sum of squares: 333383335000\n" {
		t.Fatalf("pool -n 10000 printed %q, %v", out, err)
	}
	// The killed worker fails input 777 alone: the sum lacks exactly 777².
	out, err := exec.Command(bin, "-n", "10000", "-kill", "777").CombinedOutput()
	want := regexp.MustCompile(`\Ainput 777 failed: mp: worker "pool.f" \(pid \d+\) was killed by signal 9 \(killed\)\nsum of squares: 333382731271\n\z`)
	if err != nil || !want.Match(out) {
		t.Fatalf("pool -n 10000 -kill 777 printed %q, %v", out, err)
	}
}
