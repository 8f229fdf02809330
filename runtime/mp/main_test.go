package mp_test

import (
	"os"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

// TestMain hands control to mp.Main first, so that the workers the tests
// start (this binary, re-executed) run their functions instead of the tests.
func TestMain(m *testing.M) {
	mp.Main()
	code := m.Run()
	if childDir != "" {
		os.RemoveAll(childDir)
	}
	os.Exit(code)
}
