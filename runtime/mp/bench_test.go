package mp_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// The Lock benchmarks run beside sync.Mutex in the same run so that their
// ratio is measured, not remembered.

func BenchmarkLockUnlock(b *testing.B) {
	b.Run("impl=mp.Lock", func(b *testing.B) {
		l, err := mp.NewLock()
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			l.Lock()
			l.Unlock()
		}
	})
	b.Run("impl=sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	b.Run("impl=mp.Int", func(b *testing.B) {
		v, _ := mp.NewInt[int64](0)
		for b.Loop() {
			v.Add(1)
		}
	})
	b.Run("impl=atomic.Int64", func(b *testing.B) {
		var v atomic.Int64
		for b.Loop() {
			v.Add(1)
		}
	})
}

func BenchmarkWide64(b *testing.B) {
	v, _ := mp.NewValue(wide{})
	x := wide{[8]int64{1, 2, 3, 4, 5, 6, 7, 8}}
	b.Run("op=Load", func(b *testing.B) {
		var sink wide
		for b.Loop() {
			sink = v.Load()
		}
		_ = sink
	})
	b.Run("op=Store", func(b *testing.B) {
		for b.Loop() {
			v.Store(x)
		}
	})
}

type benchArgs struct {
	Counter *mp.Int[int64]
	Lock    *mp.Lock
	Gate    *mp.Lock
	Ready   *mp.Int[int32]
	N       int
}

var benchWorker = mp.NewFunc("mp_test.bench", func(ctx context.Context, a benchArgs) error {
	a.Ready.Add(1)
	a.Gate.Lock()
	a.Gate.Unlock()
	for range a.N {
		a.Lock.Lock()
		a.Counter.Store(a.Counter.Load() + 1)
		a.Lock.Unlock()
	}
	return nil
})

// BenchmarkLockedIncrement measures Lock; v.Store(v.Load()+1); Unlock with
// every process contending for one lock; ns/op is per increment, all
// processes together. Process start-up is outside the timer.
func BenchmarkLockedIncrement(b *testing.B) {
	for _, procs := range []int{1, 2, 5} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			c, _ := mp.NewInt[int64](0)
			l, _ := mp.NewLock()
			gate, _ := mp.NewLock()
			ready, _ := mp.NewInt[int32](0)
			n := (b.N + procs - 1) / procs
			gate.Lock()
			ps := startAll(b, benchWorker, procs, benchArgs{c, l, gate, ready, n})
			for ready.Load() < int32(procs) {
				time.Sleep(100 * time.Microsecond)
			}
			b.ResetTimer()
			gate.Unlock()
			joinAll(b, ps)
			b.StopTimer()
			if got := c.Load(); got != int64(n*procs) {
				b.Fatalf("counter = %d, want %d", got, n*procs)
			}
		})
	}
}
