package mp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// The Dict benchmarks run beside their baselines in the same run: a Go map
// under a sync.Mutex in one process, and Python's multiprocessing Manager
// dict (testdata/pymanager.py) when python3 is installed. Every benchmark
// reports ops/s, the figure the targets are stated in.

func reportOps(b *testing.B, ops int, d time.Duration) {
	b.ReportMetric(float64(ops)/d.Seconds(), "ops/s")
}

func BenchmarkDictGetSet(b *testing.B) {
	b.Run("impl=mp.Dict", func(b *testing.B) {
		d, err := mp.NewDict[int64, int64]()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		i := int64(0)
		for b.Loop() {
			if err := getSet(d, i, 0); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportOps(b, b.N, time.Since(start))
	})
	b.Run("impl=map+sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		m := map[int64]int64{}
		start := time.Now()
		i := int64(0)
		for b.Loop() {
			mu.Lock()
			if i%2 == 1 {
				m[i%1024] = i
			} else {
				_ = m[i%1024]
			}
			mu.Unlock()
			i++
		}
		reportOps(b, b.N, time.Since(start))
	})
	b.Run("impl=python-Manager", func(b *testing.B) { benchPython(b, "getset") })
}

// getSet is one operation of the Get/Set mix: a Get on even i, a Set on odd.
func getSet(d *mp.Dict[int64, int64], i, base int64) error {
	k := base + i%1024
	if i%2 == 1 {
		return d.Set(k, i)
	}
	_, _, err := d.Get(k)
	return err
}

type dictBench struct {
	D     *mp.Dict[int64, int64]
	Ready *mp.Int[int32]
	Go    *mp.Int[int32]
	ID, N int
	Hot   bool // Update one key from every worker, instead of Get/Set on its own keys
}

var dictBenchWorker = mp.NewFunc("mp_test.dictBenchWorker", func(ctx context.Context, a dictBench) error {
	a.Ready.Add(1)
	for a.Go.Load() == 0 {
		time.Sleep(50 * time.Microsecond)
	}
	for i := range int64(a.N) {
		var err error
		if a.Hot {
			_, err = a.D.Update(0, func(v int64) int64 { return v + 1 })
		} else {
			err = getSet(a.D, i, int64(a.ID+1)*1024)
		}
		if err != nil {
			return err
		}
	}
	return nil
})

// benchProcs runs b.N operations split over procs worker processes, timing
// from the moment all of them are ready to the last one's exit.
func benchProcs(b *testing.B, procs int, hot bool) {
	d, err := mp.NewDict[int64, int64]()
	if err != nil {
		b.Fatal(err)
	}
	ready, _ := mp.NewInt[int32](0)
	start, _ := mp.NewInt[int32](0)
	per := max(b.N/procs, 1)
	var ps []*mp.Process
	for id := range procs {
		p, err := dictBenchWorker.Start(context.Background(), dictBench{D: d, Ready: ready, Go: start, ID: id, N: per, Hot: hot})
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	awaitReady(b, ready, procs)
	b.ResetTimer()
	t0 := time.Now()
	start.Store(1)
	for _, p := range ps {
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	reportOps(b, per*procs, elapsed)
	if hot {
		if v, _, err := d.Get(0); err != nil || v != int64(per*procs) {
			b.Fatalf("hot key = %d, %v; want %d", v, err, per*procs)
		}
	}
}

func BenchmarkDictGetSet4Procs(b *testing.B) {
	b.Run("impl=mp.Dict", func(b *testing.B) { benchProcs(b, 4, false) })
	b.Run("impl=python-Manager", func(b *testing.B) { benchPython(b, "getset4") })
}

func BenchmarkDictUpdateContended4Procs(b *testing.B) {
	b.Run("impl=mp.Dict", func(b *testing.B) { benchProcs(b, 4, true) })
	b.Run("impl=python-Manager+Lock", func(b *testing.B) { benchPython(b, "update4") })
}

// benchPython runs testdata/pymanager.py's mode for at least minPython
// operations (its start-up costs a fraction of a second, which b.N's
// ramp-up would otherwise pay for a handful of operations) and reports the
// time the script measured for them, without Python's start-up.
func benchPython(b *testing.B, mode string) {
	const minPython = 4000
	n := max(b.N, minPython)
	d := pythonSeconds(b, "testdata/pymanager.py", mode, n)
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "ns/op")
	reportOps(b, n, d)
}
