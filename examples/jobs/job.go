// Package jobs is what the two programs of the example share: the name of
// their Manager and the layout of its objects. jobd runs jobs; jobctl, started
// separately, queues them and reads their state, both through a Manager
// found by name under /dev/shm.
//
//	go run ./examples/jobs/jobd &                      # makes the Manager, runs jobs
//	go run ./examples/jobs/jobctl add resize thumbnail # queue two jobs
//	go run ./examples/jobs/jobctl list                 # resize: done (...)
//	go run ./examples/jobs/jobctl stop                 # jobd stops and removes the Manager
package jobs

import (
	"fmt"

	"github.com/mprace/mprace/runtime/mp"
)

// DefaultManager is the Manager's name unless -manager says otherwise.
const DefaultManager = "jobs-demo"

// Job is one entry of the "jobs" Dict.
type Job struct {
	State  string // queued, running, done
	Worker int    // pid of the jobd that ran it
	Result string
}

// Space is the Manager's objects.
type Space struct {
	Jobs    *mp.Dict[string, Job]   // every job by name
	Pending *mp.List[string]        // names of the queued jobs, oldest first
	Control *mp.Dict[string, int64] // "stop" set to 1 asks jobd to stop; "done" counts jobs run
}

// Attach finds (or makes) the objects in m by their names.
func Attach(m *mp.Manager) (*Space, error) {
	jobs, err := mp.ManagedDict[string, Job](m, "jobs")
	if err != nil {
		return nil, err
	}
	pending, err := mp.ManagedList[string](m, "pending")
	if err != nil {
		return nil, err
	}
	control, err := mp.ManagedDict[string, int64](m, "control")
	if err != nil {
		return nil, err
	}
	return &Space{Jobs: jobs, Pending: pending, Control: control}, nil
}

// Queue adds a job, unless one of that name exists.
func (s *Space) Queue(name string) error {
	// The Dict's own lock makes check-then-insert one step for every
	// program that takes it.
	s.Jobs.Lock()
	defer s.Jobs.Unlock()
	if _, ok, err := s.Jobs.Get(name); err != nil || ok {
		if ok {
			err = fmt.Errorf("job %q exists", name)
		}
		return err
	}
	if err := s.Jobs.Set(name, Job{State: "queued"}); err != nil {
		return err
	}
	return s.Pending.Append(name)
}
