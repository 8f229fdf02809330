package mp_test

import (
	"sync"
	"sync/atomic"
	"testing"

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
