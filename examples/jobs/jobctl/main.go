// Command jobctl queues jobs for jobd and reads their state, through the
// Manager that jobd made, found by name. See package jobs.
//
//	jobctl [-manager NAME] add JOB...   queue jobs
//	jobctl [-manager NAME] list         print every job and its state
//	jobctl [-manager NAME] stop         ask jobd to stop
package main

import (
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"

	"github.com/mprace/mprace/examples/jobs"
	"github.com/mprace/mprace/runtime/mp"
)

func main() {
	name := flag.String("manager", jobs.DefaultManager, "name of jobd's Manager")
	flag.Parse()
	if err := run(*name, flag.Args()); err != nil {
		log.Fatal("jobctl: ", err)
	}
}

func run(name string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: jobctl [-manager NAME] add JOB... | list | stop")
	}
	m, err := mp.OpenManager(name)
	if err != nil {
		return fmt.Errorf("%w (is jobd running?)", err)
	}
	defer m.Close()
	s, err := jobs.Attach(m)
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		for _, job := range args[1:] {
			if err := s.Queue(job); err != nil {
				return err
			}
		}
		return nil
	case "list":
		all, err := s.Jobs.Items()
		if err != nil {
			return err
		}
		done, _, err := s.Control.Get("done")
		if err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(all)) {
			j := all[name]
			fmt.Fprintf(os.Stdout, "%s: %s %s\n", name, j.State, j.Result)
		}
		fmt.Printf("%d jobs, %d done\n", len(all), done)
		return nil
	case "stop":
		return s.Control.Set("stop", 1)
	}
	return fmt.Errorf("unknown command %q", args[0])
}
