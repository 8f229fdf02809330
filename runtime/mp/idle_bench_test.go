package mp_test

// The cost of waiting: workers blocked on an empty Queue or a held Lock must
// sleep in the kernel, not poll; and the cost of starting them. Run with
// -benchtime 1x:
//
//	go test -run '^$' -bench Idle -benchtime 1x ./runtime/mp
//
// Each case runs testdata/idleworkers, which starts the workers, lets them
// sleep for idleFor and reports the CPU seconds they used meanwhile, how long
// they took to start, and the CPU time of the starts per worker (which a
// loaded machine inflates far less than the wall time). starters is how many
// goroutines call Start side by side (Start is safe for concurrent use);
// starters=1 is the plain loop, which keeps every core busy as well, since
// Start returns before its worker has initialised (after each Func's first).
// Bare is the baseline, in the same run: the same program started with
// os/exec as plain children that say they run and block reading stdin, with
// no worker protocol, so the difference is what runtime/mp adds to the Go
// runtime's own start of a process on this machine.

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const idleFor = 5 * time.Second

func BenchmarkIdle(b *testing.B) {
	bin := buildIdleWorkers(b)
	starters := 2 * runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		what              string
		workers, starters int
	}{{"Queue", 100, starters}, {"Lock", 100, starters}, {"Queue", 250, starters}, {"Queue", 250, 1}, {"Bare", 250, starters}} {
		b.Run(fmt.Sprintf("%s/workers=%d/starters=%d", c.what, c.workers, c.starters), func(b *testing.B) {
			for range b.N {
				out, err := exec.Command(bin, c.what, strconv.Itoa(c.workers), strconv.Itoa(c.starters), idleFor.String()).Output()
				if err != nil {
					b.Fatalf("idleworkers: %v\n%s", err, exitStderr(err))
				}
				reportPairs(b, string(out))
			}
		})
	}
}

func buildIdleWorkers(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "idleworkers")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/idleworkers").CombinedOutput(); err != nil {
		b.Fatalf("build idleworkers: %v\n%s", err, out)
	}
	return bin
}

// reportPairs reports each "unit value" pair of out as a metric.
func reportPairs(b *testing.B, out string) {
	f := strings.Fields(out)
	if len(f) == 0 || len(f)%2 != 0 {
		b.Fatalf("idleworkers printed %q, want unit/value pairs", out)
	}
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			b.Fatalf("idleworkers printed %q: %v", out, err)
		}
		b.ReportMetric(v, f[i])
	}
}

func exitStderr(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}
