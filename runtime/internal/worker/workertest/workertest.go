// Package workertest helps tests check that a worker's own workers die with
// it. The test process adopts orphans (PR_SET_CHILD_SUBREAPER), so that when
// a test kills a worker, its children become the test's to reap: how they
// ended is then known, and no zombie is left to the container's init.
package workertest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Adopt makes this process the reaper of its orphaned descendants until the
// test ends. Only processes started after the call are covered: the kernel
// records the nearest subreaper when a process forks.
func Adopt(t testing.TB) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("become a subreaper: %v", err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// End tells how an orphan ended.
type End struct {
	// Reaped is false when the orphan's dying parent reaped it before
	// dying itself (a thread of it was in wait when PR_SET_PDEATHSIG
	// fired): the orphan is gone, but how it ended is unknown.
	Reaped bool
	Status unix.WaitStatus
}

func (e End) String() string {
	switch {
	case !e.Reaped:
		return "reaped by its dying parent"
	case e.Status.Signaled():
		return "signal " + e.Status.Signal().String()
	default:
		return "exit status " + strconv.Itoa(e.Status.ExitStatus())
	}
}

// AwaitEnd waits up to limit for pid, a descendant orphaned after Adopt, to
// end, and reaps it. When it is still running at the limit, AwaitEnd kills
// and reaps it and returns an error.
func AwaitEnd(pid int, limit time.Duration) (End, error) {
	deadline := time.Now().Add(limit)
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.ECHILD) {
			if _, serr := os.Stat("/proc/" + strconv.Itoa(pid)); !errors.Is(serr, os.ErrNotExist) {
				return End{}, fmt.Errorf("process %d is not an adopted orphan, yet exists", pid)
			}
			return End{}, nil
		}
		if err != nil {
			return End{}, fmt.Errorf("wait for %d: %w", pid, err)
		}
		if got == pid {
			return End{Reaped: true, Status: ws}, nil
		}
		if time.Now().After(deadline) {
			unix.Kill(pid, unix.SIGKILL)
			unix.Wait4(pid, &ws, 0, nil)
			return End{}, fmt.Errorf("process %d still running %v after its parent died", pid, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
