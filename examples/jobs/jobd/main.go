// Command jobd makes the example's Manager and runs the jobs that jobctl
// queues in it, until jobctl stop (or a signal). See package jobs.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mprace/mprace/examples/jobs"
	"github.com/mprace/mprace/runtime/mp"
)

func main() {
	name := flag.String("manager", jobs.DefaultManager, "name of the Manager to make")
	work := flag.Duration("work", 200*time.Millisecond, "how long a job takes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *name, *work); err != nil {
		log.Fatal("jobd: ", err)
	}
}

func run(ctx context.Context, name string, work time.Duration) error {
	m, err := mp.NewManager(name)
	if err != nil {
		return err
	}
	// The Manager outlives this process unless removed: jobd owns it.
	defer m.Close()
	defer m.Unlink()
	s, err := jobs.Attach(m)
	if err != nil {
		return err
	}
	fmt.Printf("jobd: running jobs of Manager %q (pid %d)\n", name, os.Getpid())
	for ctx.Err() == nil {
		if v, _, err := s.Control.Get("stop"); err != nil || v != 0 {
			return err
		}
		job, ok, err := s.Pending.Pop()
		if err != nil {
			return err
		}
		if !ok {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err := runJob(s, job, work); err != nil {
			return err
		}
	}
	return nil
}

func runJob(s *jobs.Space, name string, work time.Duration) error {
	set := func(state, result string) error {
		_, err := s.Jobs.Update(name, func(j jobs.Job) jobs.Job {
			j.State, j.Worker, j.Result = state, os.Getpid(), result
			return j
		})
		return err
	}
	if err := set("running", ""); err != nil {
		return err
	}
	time.Sleep(work)
	sum := sha256.Sum256([]byte(name))
	if err := set("done", fmt.Sprintf("sha256 %x", sum[:4])); err != nil {
		return err
	}
	_, err := s.Control.Update("done", func(n int64) int64 { return n + 1 })
	fmt.Printf("jobd: %s done\n", name)
	return err
}
