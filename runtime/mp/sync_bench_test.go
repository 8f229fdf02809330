package mp_test

import (
	"context"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// Round trips between two processes through a pair of Events and a pair of
// Semaphores, beside Python's multiprocessing Event and Semaphore doing the
// same (testdata/pypool.py) in the same run.

type pingArgs struct {
	PingE, PongE *mp.Event
	PingS, PongS *mp.Semaphore
	Ready        *mp.Int[int32] // the peer adds 1 once it runs
	N            int
}

var (
	eventPeer = mp.NewFunc("mp_test.eventPeer", func(ctx context.Context, a pingArgs) error {
		a.Ready.Add(1)
		for range a.N {
			if err := a.PingE.Wait(ctx); err != nil {
				return err
			}
			a.PingE.Clear()
			a.PongE.Set()
		}
		return nil
	})
	semPeer = mp.NewFunc("mp_test.semPeer", func(ctx context.Context, a pingArgs) error {
		a.Ready.Add(1)
		for range a.N {
			if err := a.PingS.Acquire(ctx); err != nil {
				return err
			}
			if err := a.PongS.Release(); err != nil {
				return err
			}
		}
		return nil
	})
)

func BenchmarkEventRoundTrip(b *testing.B) {
	b.Run("impl=mp.Event", func(b *testing.B) {
		ping, _ := mp.NewEvent()
		pong, _ := mp.NewEvent()
		ready, _ := mp.NewInt[int32](0)
		p, err := eventPeer.Start(context.Background(), pingArgs{PingE: ping, PongE: pong, Ready: ready, N: b.N})
		if err != nil {
			b.Fatal(err)
		}
		awaitReady(b, ready, 1)
		start := time.Now()
		for range b.N {
			ping.Set()
			if err := pong.Wait(context.Background()); err != nil {
				b.Fatal(err)
			}
			pong.Clear()
		}
		reportOps(b, b.N, time.Since(start))
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=python-Event", func(b *testing.B) { benchPyOps(b, "event", 2000) })
}

func BenchmarkSemaphoreRoundTrip(b *testing.B) {
	b.Run("impl=mp.Semaphore", func(b *testing.B) {
		ping, _ := mp.NewSemaphore(0)
		pong, _ := mp.NewSemaphore(0)
		ready, _ := mp.NewInt[int32](0)
		p, err := semPeer.Start(context.Background(), pingArgs{PingS: ping, PongS: pong, Ready: ready, N: b.N})
		if err != nil {
			b.Fatal(err)
		}
		awaitReady(b, ready, 1)
		start := time.Now()
		for range b.N {
			if err := ping.Release(); err != nil {
				b.Fatal(err)
			}
			if err := pong.Acquire(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		reportOps(b, b.N, time.Since(start))
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("impl=python-Semaphore", func(b *testing.B) { benchPyOps(b, "semaphore", 2000) })
}

// benchPyOps runs a mode of testdata/pypool.py for at least min round trips
// and reports Python's time per round trip and round trips per second.
func benchPyOps(b *testing.B, mode string, min int) {
	n := max(b.N, min)
	d := pythonSeconds(b, "testdata/pypool.py", mode, n)
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "ns/op")
	reportOps(b, n, d)
}
