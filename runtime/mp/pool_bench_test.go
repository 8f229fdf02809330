package mp_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// The Pool benchmarks run beside Python's multiprocessing.Pool on the same
// machine (testdata/pypool.py, when python3 is installed), in the same run.
// Pool start-up is excluded on both sides.

func BenchmarkPoolSubmit(b *testing.B) {
	b.Run("impl=mp.Pool", func(b *testing.B) {
		p := benchPool(b)
		rs := make([]*mp.AsyncResult[int], 0, b.N)
		start := time.Now()
		for i := range b.N {
			r, err := p.Submit(context.Background(), i)
			if err != nil {
				b.Fatal(err)
			}
			rs = append(rs, r)
		}
		for i, r := range rs {
			if got, err := r.Get(context.Background()); err != nil || got != i*i {
				b.Fatalf("result %d: %d, %v", i, got, err)
			}
		}
		reportTasks(b, b.N, time.Since(start))
	})
	b.Run("impl=python-apply_async", func(b *testing.B) { benchPyTasks(b, "submit", 2000) })
	b.Run("impl=python-imap_unordered1", func(b *testing.B) { benchPyTasks(b, "imap1", 2000) })
}

// BenchmarkPoolMap100k maps 100,000 tiny inputs per op, chunked.
func BenchmarkPoolMap100k(b *testing.B) {
	in := make([]int, 100_000)
	for i := range in {
		in[i] = i
	}
	b.Run("impl=mp.Pool", func(b *testing.B) {
		p := benchPool(b)
		for b.Loop() {
			out, err := p.Map(context.Background(), in, 0)
			if err != nil || out[99_999] != 99_999*99_999 {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=python-Pool.map", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += pythonSeconds(b, "testdata/pypool.py", "map", len(in))
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
	})
}

func benchPool(b *testing.B) *mp.Pool[int, int] {
	p, err := mp.NewPool(squareFunc, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Terminate(); p.Wait() })
	if _, err := p.Map(context.Background(), []int{1, 2, 3, 4}, 1); err != nil {
		b.Fatal(err)
	}
	return p
}

func reportTasks(b *testing.B, n int, d time.Duration) {
	b.ReportMetric(float64(n)/d.Seconds(), "tasks/s")
}

// benchPyTasks runs a mode of testdata/pypool.py for at least min tasks and
// reports Python's time per task and tasks per second.
func benchPyTasks(b *testing.B, mode string, min int) {
	n := max(b.N, min)
	d := pythonSeconds(b, "testdata/pypool.py", mode, n)
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "ns/op")
	reportTasks(b, n, d)
}

// pythonSeconds runs a baseline script that prints the seconds its measured
// part took.
func pythonSeconds(b *testing.B, script, mode string, n int) time.Duration {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 is not installed: no Python baseline")
	}
	out, err := exec.Command(py, script, mode, strconv.Itoa(n)).Output()
	if err != nil {
		b.Fatalf("%s %s: %v", script, mode, err)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("%s printed %q", script, out)
	}
	return time.Duration(secs * float64(time.Second))
}
