// Command counter is the shared counter from Python's multiprocessing
// documentation, in Go: P processes each add 1 to a shared value N times,
// under a shared lock.
//
//	go run ./examples/counter                       # Final counter value: 500
//	go run ./examples/counter -procs 5 -n 200000    # a million locked increments
//	go run ./examples/counter -racy -n 100000       # drops the lock: updates are lost
//
// With -racy each increment is counter.Store(counter.Load() + 1) with no lock:
// two processes read the same value and both write it plus one, and one
// increment is lost. That line is what the mprace linter reports.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/mprace/mprace/runtime/mp"
)

type args struct {
	Counter *mp.Int[int64]
	Lock    *mp.Lock
	Gate    *mp.Lock // held by main until every worker has started
	N       int
	Racy    bool
}

var worker = mp.NewFunc("counter.worker", func(ctx context.Context, a args) error {
	// Starting a process takes longer than a few thousand increments: without
	// the gate the workers would run one after another and never contend.
	a.Gate.Lock()
	a.Gate.Unlock()
	if a.Racy {
		for range a.N {
			a.Counter.Store(a.Counter.Load() + 1)
		}
		return nil
	}
	for range a.N {
		a.Lock.Lock()
		a.Counter.Store(a.Counter.Load() + 1)
		a.Lock.Unlock()
	}
	return nil
})

func main() {
	mp.Main()
	procs := flag.Int("procs", 5, "number of worker processes")
	n := flag.Int("n", 100, "increments per process")
	racy := flag.Bool("racy", false, "increment without the lock (loses updates)")
	flag.Parse()
	if err := run(*procs, *n, *racy); err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
}

func run(procs, n int, racy bool) error {
	if procs < 1 || n < 0 {
		return fmt.Errorf("need -procs >= 1 and -n >= 0, got %d and %d", procs, n)
	}
	counter, err := mp.NewInt[int64](0)
	if err != nil {
		return err
	}
	lock, err := mp.NewLock()
	if err != nil {
		return err
	}
	gate, err := mp.NewLock()
	if err != nil {
		return err
	}
	ctx := context.Background()
	var ps []*mp.Process
	gate.Lock()
	for range procs {
		p, err := worker.Start(ctx, args{Counter: counter, Lock: lock, Gate: gate, N: n, Racy: racy})
		if err != nil {
			gate.Unlock()
			return err
		}
		ps = append(ps, p)
	}
	gate.Unlock()
	var failed error
	for _, p := range ps {
		if err := p.Join(); err != nil && failed == nil {
			failed = err
		}
	}
	fmt.Printf("Final counter value: %d\n", counter.Load())
	return failed
}
