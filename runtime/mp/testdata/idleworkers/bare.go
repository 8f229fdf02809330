package main

// The baseline: the same program started as plain child processes with
// os/exec, no runtime/mp worker protocol, each of which says it runs and
// blocks reading its standard input. What the Go runtime costs to start a
// process on this machine is the floor under a worker's start.

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

const bareEnv = "IDLEWORKERS_BARE"

// bareChild writes one byte to descriptor 3 and blocks until its standard
// input ends.
func bareChild() {
	ready := os.NewFile(3, "ready")
	if _, err := ready.Write([]byte{1}); err != nil {
		os.Exit(2)
	}
	ready.Close()
	io.Copy(io.Discard, os.Stdin)
}

// bare starts n bare children from the given number of goroutines and
// reports as run does.
func bare(n, starters int, idle time.Duration) error {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmds := make([]*exec.Cmd, n)
	stdins := make([]io.WriteCloser, n)
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)

	start, selfBefore := time.Now(), selfCPU()
	var wg sync.WaitGroup
	for range starters {
		wg.Go(func() {
			for i := range next {
				c := exec.Command(self)
				c.Env = append(os.Environ(), bareEnv+"=1")
				c.ExtraFiles = []*os.File{readyW}
				c.Stdout, c.Stderr = os.Stderr, os.Stderr
				if stdins[i], errs[i] = c.StdinPipe(); errs[i] == nil {
					errs[i] = c.Start()
				}
				cmds[i] = c
			}
		})
	}
	wg.Wait()
	readyW.Close()
	defer func() {
		for i, c := range cmds {
			if stdins[i] != nil {
				stdins[i].Close()
			}
			if c.Process != nil {
				c.Wait()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := io.ReadFull(readyR, make([]byte, n)); err != nil {
		return err
	}
	started := time.Since(start)
	pids := make([]int, n)
	for i, c := range cmds {
		pids[i] = c.Process.Pid
	}
	startCPU, used, err := measure(pids, selfBefore, idle)
	if err != nil {
		return err
	}
	report(n, started, startCPU, used, idle)
	return nil
}
