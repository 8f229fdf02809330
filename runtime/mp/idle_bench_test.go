package mp_test

// The cost of waiting: workers blocked on an empty Queue or a held Lock must
// sleep in the kernel, not poll. Run with -benchtime 1x; each run reports the
// CPU seconds all the workers used together while blocked for idleFor, and
// how long they took to start. A worker's start is mostly the Go runtime and
// package initialisation of a fresh process, which runs on one core; starters
// is how many goroutines call Start side by side (Start is safe for
// concurrent use), so that starting many workers can use every core, and
// starters=1 is the plain loop.
//
//	go test -run '^$' -bench Idle -benchtime 1x ./runtime/mp

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

const idleFor = 5 * time.Second

type idleArgs struct {
	Ready *mp.Int[int64]
	Queue *mp.Queue[int64] // nil: wait on Lock
	Lock  *mp.Lock
}

var idleWaiter = mp.NewFunc("mp_test.idleWaiter", func(ctx context.Context, a idleArgs) error {
	a.Ready.Add(1)
	if a.Queue != nil {
		_, err := a.Queue.GetContext(ctx)
		return err
	}
	if err := a.Lock.LockContext(ctx); err != nil {
		return err
	}
	a.Lock.Unlock()
	return nil
})

func BenchmarkIdle(b *testing.B) {
	cores := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		what              string
		workers, starters int
	}{{"Queue", 100, cores}, {"Lock", 100, cores}, {"Queue", 250, cores}, {"Queue", 250, 1}} {
		b.Run(fmt.Sprintf("%s/workers=%d/starters=%d", c.what, c.workers, c.starters), func(b *testing.B) {
			for range b.N {
				benchIdle(b, c.what, c.workers, c.starters)
			}
		})
	}
}

func benchIdle(b *testing.B, what string, workers, starters int) {
	ready, err := mp.NewInt[int64](0)
	if err != nil {
		b.Fatal(err)
	}
	args := idleArgs{Ready: ready}
	if what == "Queue" {
		if args.Queue, err = mp.NewQueue[int64](); err != nil {
			b.Fatal(err)
		}
	} else {
		if args.Lock, err = mp.NewLock(); err != nil {
			b.Fatal(err)
		}
		args.Lock.Lock()
	}
	start := time.Now()
	ps, err := startIdle(workers, starters, args)
	if err != nil {
		b.Fatal(err)
	}
	for ready.Load() < int64(workers) {
		time.Sleep(time.Millisecond)
	}
	started := time.Since(start)
	// Let the last ones finish spinning and go to sleep.
	time.Sleep(500 * time.Millisecond)
	before := cpuSeconds(b, ps)
	time.Sleep(idleFor)
	used := cpuSeconds(b, ps) - before
	if what == "Queue" {
		for range workers {
			if err := args.Queue.Put(1); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		args.Lock.Unlock()
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(used, "cpu-s")
	b.ReportMetric(used/float64(workers)/idleFor.Seconds()*100, "%core/worker")
	b.ReportMetric(started.Seconds(), "start-s")
}

// startIdle starts n idle waiters from the given number of goroutines.
func startIdle(n, starters int, args idleArgs) ([]*mp.Process, error) {
	ps := make([]*mp.Process, n)
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range starters {
		wg.Go(func() {
			for i := range next {
				ps[i], errs[i] = idleWaiter.Start(context.Background(), args)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, p := range ps {
				if p != nil {
					p.Kill()
				}
			}
			return nil, fmt.Errorf("worker %d: %w", i, err)
		}
	}
	return ps, nil
}

// cpuSeconds is the user and system time the processes have used so far.
func cpuSeconds(b *testing.B, ps []*mp.Process) float64 {
	ticks := 0
	for _, p := range ps {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/stat")
		if err != nil {
			b.Fatal(err)
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		for _, i := range []int{11, 12} { // utime, stime: fields 14 and 15
			n, err := strconv.Atoi(f[i])
			if err != nil {
				b.Fatal(err)
			}
			ticks += n
		}
	}
	return float64(ticks) / 100 // USER_HZ
}
