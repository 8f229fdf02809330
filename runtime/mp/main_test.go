package mp_test

import (
	"os"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// TestMain hands control to mp.Main first, so that the workers the tests
// start (this binary, re-executed) run their functions instead of the tests.
func TestMain(m *testing.M) {
	if d, err := time.ParseDuration(os.Getenv(slowStartEnv)); err == nil {
		time.Sleep(d) // a worker that is slow to reach Main, as a large program's are
	}
	mp.Main()
	code := m.Run()
	if childDir != "" {
		os.RemoveAll(childDir)
	}
	os.Exit(code)
}

// slowStartEnv, set to a duration in a test's environment, delays every
// process of this binary by that much before it calls Main.
const slowStartEnv = "MP_TEST_SLOW_START"
