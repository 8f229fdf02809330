package main

import (
	"os"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

func TestMain(m *testing.M) {
	mp.Main()
	os.Exit(m.Run())
}

func TestPipeline(t *testing.T) {
	if err := run(3, 2000); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineRejectsBadFlags(t *testing.T) {
	if err := run(0, 10); err == nil {
		t.Fatal("no workers accepted")
	}
}
