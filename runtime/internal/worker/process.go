package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// crashKeep bounds how much of a worker's crash report the parent keeps;
// the rest (other goroutines' tracebacks) is read and dropped, so the dying
// worker never blocks on a full pipe.
const crashKeep = 64 << 10

// Process is a running or finished worker. Its methods are safe for
// concurrent use. The process is reaped as soon as it exits, whether or not
// anyone calls Wait, so it never lingers as a zombie.
type Process struct {
	name string
	pid  int
	cfg  config
	cmd  *exec.Cmd

	// The parent's ends of the pipes, closed by reap (reqW once the request
	// is written).
	reqW, repR, lifeline, crashR *os.File

	hello       chan struct{} // closed on the worker's hello
	running     chan struct{} // closed on the started reply: the entry runs
	startReply  chan reply    // started or refused
	repliesDone chan struct{} // readReplies returned; outcome is final
	writeDone   chan struct{}
	crashDone   chan struct{}
	outcome     *reply // ok, error or panic, if the worker reported one
	refused     *reply // the worker's refusal of the request, if it refused
	crash       []byte

	stopWatch func() bool // stops the context watch
	leaveSlot func()      // gives back the start slot (startSlots); idempotent

	mu        sync.Mutex
	stopped   error       // why the parent stopped the worker, if it did
	stopAsked atomic.Bool // lifelineStop was written
	startErr  error       // a start without waiting failed its handshake

	done chan struct{} // closed once reaped; err is final
	err  error
}

// Pid returns the worker's process id.
func (p *Process) Pid() int { return p.pid }

// Name returns the entry the worker runs.
func (p *Process) Name() string { return p.name }

// Done is closed when the worker has exited and Wait would not block.
func (p *Process) Done() <-chan struct{} { return p.done }

// WaitRunning waits until the worker runs its entry, as Start does without
// WithoutWait. It returns nil once the entry runs, Wait's error if the
// worker ended before, or ctx's error.
func (p *Process) WaitRunning(ctx context.Context) error {
	select {
	case <-p.running:
		return nil
	case <-p.done:
		select {
		case <-p.running:
			return nil
		default:
			return p.err
		}
	case <-ctx.Done():
		return fmt.Errorf("mp: worker %q (pid %d): wait until it runs: %w", p.name, p.pid, context.Cause(ctx))
	}
}

// Wait waits for the worker to exit and tells how it ended: nil when its
// entry returned nil; an *Error carrying the entry's error; a *PanicError; an
// *ExitError when it exited or was killed without reporting a result; an
// error wrapping the context's cause when cancellation stopped it. Every call
// returns the same result.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Kill sends SIGKILL to the worker. Killing a worker that has already exited
// does nothing.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

// Terminate asks the worker to stop: its entry's context is cancelled, and
// it is up to the entry to return. Asking a worker that has already exited
// does nothing.
func (p *Process) Terminate() error {
	if p.stopAsked.Swap(true) {
		return nil // one byte is enough; more could fill the pipe
	}
	_, err := p.lifeline.Write([]byte{lifelineStop})
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("mp: stop worker %q (pid %d): %w", p.name, p.pid, err)
	}
	return nil
}

func (p *Process) signal(sig syscall.Signal) error {
	// os.Process signals through a pidfd, so a pid reused after the reap
	// cannot be hit by mistake.
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mp: signal worker %q (pid %d): %w", p.name, p.pid, err)
	}
	return nil
}

func (p *Process) kill() { _ = p.signal(syscall.SIGKILL) }

// stop ends the worker because the context given to Start ended.
func (p *Process) stop(cause error) {
	p.mu.Lock()
	p.stopped = cause
	p.mu.Unlock()
	if p.cfg.grace <= 0 {
		p.kill()
		return
	}
	_ = p.Terminate()
	t := time.AfterFunc(p.cfg.grace, p.kill)
	go func() {
		<-p.done
		t.Stop()
	}()
}

func (p *Process) readReplies() {
	defer close(p.repliesDone)
	defer p.leaveSlot()
	r := bufio.NewReader(p.repR)
	for {
		var m reply
		frame, err := readFrame(r)
		if err == nil {
			err = m.unmarshal(frame)
		}
		if err != nil {
			return // EOF: the worker is gone; anything else: it said nothing usable
		}
		switch m.Kind {
		case replyHello:
			if m.Version != protocolVersion {
				return
			}
			close(p.hello)
			p.leaveSlot()
		case replyStarted, replyRefused:
			if m.Kind == replyRefused {
				p.refused = &m
			} else {
				close(p.running)
			}
			select {
			case p.startReply <- m:
			default: // a second answer: ignore
			}
		case replyOK, replyError, replyPanic:
			p.outcome = &m
			return
		}
	}
}

func (p *Process) readCrash() {
	defer close(p.crashDone)
	buf, _ := io.ReadAll(io.LimitReader(p.crashR, crashKeep))
	p.crash = buf
	_, _ = io.Copy(io.Discard, p.crashR)
}

// reap waits for the worker to exit, releases everything the parent holds
// for it and settles the result.
func (p *Process) reap() {
	p.awaitExit()
	// An error here is ErrWaitDelay (output still held open by a descendant)
	// or a failure to wait at all; ProcessState tells which.
	_ = p.cmd.Wait()
	p.stopWatch()
	p.lifeline.Close()

	pending := []chan struct{}{p.writeDone, p.repliesDone, p.crashDone}
	deadline := time.NewTimer(ioDrain)
	for _, ch := range pending {
		select {
		case <-ch:
		case <-deadline.C:
			// Something still holds a pipe open; closing our ends unblocks
			// the goroutines (the pipes are non-blocking, so Close interrupts).
			p.reqW.Close()
			p.repR.Close()
			p.crashR.Close()
			<-ch
		}
	}
	deadline.Stop()
	p.reqW.Close()
	p.repR.Close()
	p.crashR.Close()

	p.err = p.result()
	close(p.done)
}

// awaitExit parks the calling goroutine until the worker has exited, on a
// pidfd in the runtime's poller. Wait alone blocks an OS thread in waitid for
// the worker's whole life: one thread per live worker, each made while a
// worker starts. Where pidfds cannot be polled it returns at once, and Wait
// blocks a thread as before. The pid cannot name another process meanwhile:
// the worker is this process's child and nothing reaps it before Wait.
func (p *Process) awaitExit() {
	fd, err := unix.PidfdOpen(p.pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "mp-pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// A pidfd reads ready once its process has exited; until then the
	// poller parks this goroutine. Any error ends the wait: Wait follows.
	_ = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		return err != nil || n > 0
	})
}

// result turns what the worker reported, its exit status and any stop the
// parent requested into Wait's error.
func (p *Process) result() error {
	p.mu.Lock()
	stopped, startErr := p.stopped, p.startErr
	p.mu.Unlock()

	var err error
	switch {
	case p.outcome != nil && p.outcome.Kind == replyOK:
		return nil
	case p.outcome != nil && p.outcome.Kind == replyError:
		err = &Error{Name: p.name, Pid: p.pid, Msg: p.outcome.Msg, sentinels: sentinelsNamed(p.outcome.Sentinels)}
	case p.outcome != nil && p.outcome.Kind == replyPanic:
		err = &PanicError{Name: p.name, Pid: p.pid, Value: p.outcome.Msg, Stack: p.outcome.Stack}
	case stopped != nil:
		return fmt.Errorf("mp: worker %q (pid %d) stopped: %w", p.name, p.pid, stopped)
	// The rest can only follow a start that did not wait for the worker.
	case p.refused != nil:
		return p.refusal(*p.refused)
	case startErr != nil:
		return startErr
	case !p.reachedMain() && !p.signaled():
		return fmt.Errorf("mp: start worker %q: the new process (pid %d) ended (%w) without running Main: %w", p.name, p.pid, p.exitError(), ErrNoMain)
	case len(p.crash) > 0:
		value, stack := parseCrash(string(p.crash))
		err = &PanicError{Name: p.name, Pid: p.pid, Value: value, Stack: stack}
	default:
		err = p.exitError()
	}
	if stopped != nil {
		return fmt.Errorf("%w (stopped: %w)", err, stopped)
	}
	return err
}

// reachedMain reports whether the worker said hello, that is ran Main.
func (p *Process) reachedMain() bool {
	select {
	case <-p.hello:
		return true
	default:
		return false
	}
}

// signaled reports whether a signal ended the worker.
func (p *Process) signaled() bool {
	if p.cmd.ProcessState == nil {
		return false
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

func (p *Process) exitError() error {
	st := p.cmd.ProcessState
	if st == nil {
		return fmt.Errorf("mp: worker %q (pid %d): exit status unknown", p.name, p.pid)
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return &ExitError{Name: p.name, Pid: p.pid, Code: -1, Signal: ws.Signal()}
	}
	return &ExitError{Name: p.name, Pid: p.pid, Code: st.ExitCode()}
}
