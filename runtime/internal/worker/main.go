package worker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Main runs the worker's entry when this process was started as a worker,
// and returns at once otherwise. Call it first thing in main and in TestMain:
// code before it would run in every worker too.
//
// In a worker it never returns: it calls setup (if not nil) with the files
// the parent passed to Start, which are setup's to keep (a file it drops is
// closed when collected), runs the entry with a context that the parent's
// Terminate cancels, reports the outcome to the parent and exits, with status
// 0 when the entry returned nil.
func Main(setup func(files []*os.File) error) {
	v, ok := os.LookupEnv(envKey)
	if !ok {
		return
	}
	os.Exit(serve(v, setup))
}

// serve is the worker's side of the protocol; it returns the exit status.
func serve(marker string, setup func(files []*os.File) error) int {
	// Whatever the entry starts must not take itself for a worker.
	os.Unsetenv(envKey)
	// The parent asks for a stop over the lifeline, not with SIGTERM:
	// handling a signal costs a Go program three more OS threads, a
	// sizeable part of a worker's start.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// Inherited descriptors stay ours: a program the entry executes must not
	// hold the parent's pipes open (nor learn of the lifeline).
	for fd := fdRequest; fd < fdFiles; fd++ {
		unix.CloseOnExec(fd)
	}
	ppid, err := parseMarker(marker)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mp: worker: %v\n", err)
		return exitRefused
	}
	go watchLifeline(pipeEnd(fdLifeline, "mp-lifeline"), stop)
	if os.Getppid() != ppid {
		return exitOrphaned // the parent died before the lifeline was watched
	}

	crash := os.NewFile(fdCrash, "mp-crash")
	if err := debug.SetCrashOutput(crash, debug.CrashOptions{}); err != nil {
		fmt.Fprintf(os.Stderr, "mp: worker: crash output: %v\n", err)
	}
	crash.Close() // SetCrashOutput holds its own duplicate

	out := pipeEnd(fdReply, "mp-reply")
	send := func(m reply) { _ = writeFrame(out, m.marshal()) } // the parent is gone if this fails; the lifeline ends us
	send(reply{Kind: replyHello, Version: protocolVersion})

	refuse := func(why refusal, format string, args ...any) int {
		send(reply{Kind: replyRefused, Reason: why, Msg: fmt.Sprintf(format, args...)})
		return exitRefused
	}
	var req request
	in := pipeEnd(fdRequest, "mp-request")
	frame, err := readFrame(bufio.NewReader(in))
	in.Close()
	if err == nil {
		err = req.unmarshal(frame)
	}
	if err != nil {
		return refuse(refusedProtocol, "read request: %v", err)
	}
	files, err := inheritedFiles(req.Files)
	if err != nil {
		return refuse(refusedProtocol, "%v", err)
	}
	run := lookup(req.Name)
	if run == nil {
		return refuse(refusedNotRegistered, "entry %q is not registered", req.Name)
	}
	if setup != nil {
		if err := setup(files); err != nil {
			return refuse(refusedSetup, "%v", err)
		}
	}
	send(reply{Kind: replyStarted})

	m, status := runEntry(ctx, run, req.Arg)
	send(m)
	return status
}

func parseMarker(v string) (ppid int, err error) {
	rest, ok := strings.CutPrefix(v, envVersion+":")
	if ok {
		ppid, err = strconv.Atoi(rest)
	}
	if !ok || err != nil || ppid <= 0 {
		return 0, fmt.Errorf("malformed %s=%q (a parent of another mprace version?)", envKey, v)
	}
	return ppid, nil
}

// pipeEnd wraps one of the protocol's pipes, which only this process holds
// once the parent has closed its copies, in non-blocking mode: the runtime's
// poller then waits on it, rather than an OS thread of its own per blocked
// read, which a worker would otherwise have to create while it starts.
func pipeEnd(fd int, name string) *os.File {
	// On failure the file stays blocking, which costs a thread but works.
	_ = unix.SetNonblock(fd, true)
	return os.NewFile(uintptr(fd), name)
}

// watchLifeline ends the worker when the parent is gone: only the parent
// holds the pipe's write end (close-on-exec, so no other program inherits it),
// so EOF, or any error, means it has exited, however it died. A byte on it is
// the parent asking the entry to stop.
func watchLifeline(f *os.File, stop func()) {
	var b [1]byte
	for {
		n, err := f.Read(b[:])
		if err != nil {
			os.Exit(exitOrphaned)
		}
		if n == 1 && b[0] == lifelineStop {
			stop()
		}
	}
}

// inheritedFiles wraps the n descriptors after the protocol's own, checking
// that each is open: a request claiming more than were passed is an error.
func inheritedFiles(n int) ([]*os.File, error) {
	if n < 0 || n > maxFiles {
		return nil, fmt.Errorf("request claims %d files", n)
	}
	files := make([]*os.File, n)
	for i := range files {
		fd := fdFiles + i
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return nil, fmt.Errorf("inherited file %d (descriptor %d): %w", i, fd, err)
		}
		unix.CloseOnExec(fd)
		files[i] = os.NewFile(uintptr(fd), "mp-file-"+strconv.Itoa(i))
	}
	return files, nil
}

// runEntry runs the entry on its own goroutine, so that a panic or a
// runtime.Goexit in it is reported rather than taking Main down.
func runEntry(ctx context.Context, run Entry, arg []byte) (reply, int) {
	type result struct {
		m      reply
		status int
	}
	ch := make(chan result, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			if v := recover(); v != nil {
				ch <- result{reply{Kind: replyPanic, Msg: fmt.Sprint(v), Stack: string(debug.Stack())}, exitPanic}
				return
			}
			ch <- result{reply{Kind: replyError, Msg: "entry called runtime.Goexit"}, exitError}
		}()
		err := run(ctx, arg)
		returned = true
		if err != nil {
			ch <- result{reply{Kind: replyError, Msg: err.Error(), Sentinels: sentinelNames(err)}, exitError}
			return
		}
		ch <- result{reply{Kind: replyOK}, exitOK}
	}()
	r := <-ch
	return r.m, r.status
}
