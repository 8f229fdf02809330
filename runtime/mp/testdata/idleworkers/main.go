// Command idleworkers measures what idle workers cost, for BenchmarkIdle. It
// starts N workers from S goroutines side by side (S=1 is the plain loop),
// each of which blocks on an empty Queue or on a Lock this process holds,
// waits until every one is blocked, lets them sleep for IDLE, releases them,
// joins them and prints its measurements as name/value pairs. Bare starts
// plain children of the same program instead (bare.go), the baseline:
//
//	idleworkers Queue|Lock|Bare N S IDLE
//
//	start-s              wall time from the first Start until all are blocked
//	start-cpu-ms/worker  CPU time of the starts (the workers' and this
//	                     process's), per worker: a loaded machine inflates it
//	                     far less than the wall time
//	cpu-s                CPU time all workers used together while blocked
//	%core/worker         the same per worker, in percent of a core
//
// It is a program of its own, not the test binary re-executed: a worker's
// start is mostly its program's runtime and package initialisation, and the
// test binary's (every test's registrations, cgo for the net package of a
// socket baseline) is several times an ordinary program's.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type waitArgs struct {
	Ready *mp.Int[int64]
	Queue *mp.Queue[int64] // nil: wait on Lock
	Lock  *mp.Lock
}

var waiter = mp.NewFunc("idleworkers.waiter", func(ctx context.Context, a waitArgs) error {
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

func main() {
	mp.Main()
	if os.Getenv(bareEnv) != "" {
		bareChild()
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "idleworkers:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 || args[0] != "Queue" && args[0] != "Lock" && args[0] != "Bare" {
		return errors.New("usage: idleworkers Queue|Lock|Bare WORKERS STARTERS IDLE")
	}
	workers, err1 := strconv.Atoi(args[1])
	starters, err2 := strconv.Atoi(args[2])
	idle, err3 := time.ParseDuration(args[3])
	if err := errors.Join(err1, err2, err3); err != nil || workers < 1 || starters < 1 {
		return fmt.Errorf("usage: idleworkers Queue|Lock|Bare WORKERS STARTERS IDLE: %v", err)
	}
	if args[0] == "Bare" {
		return bare(workers, starters, idle)
	}
	ready, err := mp.NewInt[int64](0)
	if err != nil {
		return err
	}
	a := waitArgs{Ready: ready}
	if args[0] == "Queue" {
		if a.Queue, err = mp.NewQueue[int64](); err != nil {
			return err
		}
	} else {
		if a.Lock, err = mp.NewLock(); err != nil {
			return err
		}
		a.Lock.Lock()
	}

	start, selfBefore := time.Now(), selfCPU()
	ps, err := startAll(workers, starters, a)
	if err != nil {
		return err
	}
	for ready.Load() < int64(workers) {
		time.Sleep(time.Millisecond)
	}
	started := time.Since(start)
	pids := make([]int, len(ps))
	for i, p := range ps {
		pids[i] = p.Pid()
	}
	startCPU, used, err := measure(pids, selfBefore, idle)
	if err != nil {
		return err
	}

	if a.Queue != nil {
		for range workers {
			if err := a.Queue.Put(1); err != nil {
				return err
			}
		}
	} else {
		a.Lock.Unlock()
	}
	for _, p := range ps {
		if err := p.Join(); err != nil {
			return err
		}
	}
	report(workers, started, startCPU, used, idle)
	return nil
}

func report(workers int, started, startCPU time.Duration, used float64, idle time.Duration) {
	fmt.Printf("start-s %.4g start-cpu-ms/worker %.4g cpu-s %.4g %%core/worker %.4g\n",
		started.Seconds(), startCPU.Seconds()*1000/float64(workers),
		used, used/float64(workers)/idle.Seconds()*100)
}

// startAll starts n waiters from the given number of goroutines.
func startAll(n, starters int, a waitArgs) ([]*mp.Process, error) {
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
				ps[i], errs[i] = waiter.Start(context.Background(), a)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, p := range ps {
			if p != nil {
				p.Kill()
			}
		}
		return nil, err
	}
	return ps, nil
}

// selfCPU is the user and system time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure returns the CPU time of the starts, this process's since
// selfBefore and all the children's so far, and then the CPU seconds the
// children use together while they sleep for idle, after half a second for
// the last ones to finish spinning and go to sleep.
func measure(pids []int, selfBefore, idle time.Duration) (startCPU time.Duration, used float64, err error) {
	children, err := cpuOf(pids)
	if err != nil {
		return 0, 0, err
	}
	startCPU = selfCPU() - selfBefore + children
	time.Sleep(500 * time.Millisecond)
	before, err := cpuOf(pids)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(idle)
	after, err := cpuOf(pids)
	if err != nil {
		return 0, 0, err
	}
	return startCPU, (after - before).Seconds(), nil
}

// cpuOf is the user and system time the processes have used so far.
func cpuOf(pids []int) (time.Duration, error) {
	ticks := 0
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, err
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		for _, i := range []int{11, 12} { // utime, stime: fields 14 and 15
			n, err := strconv.Atoi(f[i])
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / 100, nil // USER_HZ
}
