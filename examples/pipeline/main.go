// Command pipeline splits work over processes with two mp.Queues: the main
// process puts jobs on one, worker processes take them and put results on
// the other, and the main process collects the results.
//
//	go run ./examples/pipeline -workers 4 -jobs 10000
//
// Jobs hold strings, so they travel gob-encoded; results are plain structs
// and are copied raw. Closing the job queue is the end-of-work signal: each
// worker drains what is left, sees mp.ErrClosed and returns.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type job struct {
	ID   int
	Text string
}

type result struct {
	ID, Words, Worker int
}

type workerArgs struct {
	Jobs    *mp.Queue[job]
	Results *mp.Queue[result]
	Worker  int
}

// work runs in each worker process. It is registered at package level so
// that a re-executed worker finds it before main's own code would run.
var work = mp.NewFunc("pipeline.work", func(ctx context.Context, a workerArgs) error {
	for {
		j, err := a.Jobs.GetContext(ctx)
		if errors.Is(err, mp.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		r := result{ID: j.ID, Words: len(strings.Fields(j.Text)), Worker: a.Worker}
		if err := a.Results.Put(r); err != nil {
			return err
		}
	}
})

func main() {
	mp.Main() // in a worker, runs work and exits
	workers := flag.Int("workers", 4, "worker processes")
	n := flag.Int("jobs", 10000, "jobs to hand out")
	flag.Parse()
	if err := run(*workers, *n); err != nil {
		log.SetFlags(0)
		log.Fatal("pipeline: ", err)
	}
}

func run(workers, n int) error {
	if workers < 1 || n < 0 {
		return fmt.Errorf("need at least one worker and no negative job count")
	}
	jobs, err := mp.NewQueue[job](mp.WithCapacity(256))
	if err != nil {
		return err
	}
	results, err := mp.NewQueue[result]()
	if err != nil {
		return err
	}
	start := time.Now()
	procs := make([]*mp.Process, workers)
	for w := range procs {
		if procs[w], err = work.Start(context.Background(), workerArgs{Jobs: jobs, Results: results, Worker: w}); err != nil {
			return err
		}
	}
	produced := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			text := strings.Repeat("lorem ipsum ", i%10+1)
			if err := jobs.Put(job{ID: i, Text: text}); err != nil {
				produced <- err
				return
			}
		}
		produced <- jobs.Close()
	}()

	perWorker := make([]int, workers)
	done := make([]bool, n)
	words := 0
	for i := 0; i < n; i++ {
		r, err := results.Get()
		if err != nil {
			return err
		}
		if r.ID < 0 || r.ID >= n || done[r.ID] || r.Worker < 0 || r.Worker >= workers {
			return fmt.Errorf("unexpected result %+v", r)
		}
		done[r.ID] = true
		perWorker[r.Worker]++
		words += r.Words
	}
	if err := <-produced; err != nil {
		return err
	}
	for w, p := range procs {
		if err := p.Join(); err != nil {
			return fmt.Errorf("worker %d: %w", w, err)
		}
	}
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stdout, "%d jobs, %d words, %d workers in %v (%.0f jobs/s)\n",
		n, words, workers, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	for w, c := range perWorker {
		fmt.Fprintf(os.Stdout, "  worker %d: %d jobs\n", w, c)
	}
	return nil
}
