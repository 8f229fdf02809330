package worker

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Errors callers test for with errors.Is.
var (
	// ErrNoMain: the program was re-executed as a worker but did not hand
	// control to Main, so it would have run its own main instead.
	ErrNoMain = errors.New("the program does not call mp.Main first thing in main (and in TestMain), so it cannot run workers")
	// ErrNotRegistered: no entry of that name exists in the worker.
	ErrNotRegistered = errors.New("worker entry is not registered")
)

// notRegisteredError names the missing entry and says how to fix it.
type notRegisteredError struct{ name string }

func (e *notRegisteredError) Error() string {
	return fmt.Sprintf("mp: worker entry %q is not registered: call mp.Main first thing in main, and register entries at package level", e.name)
}

func (e *notRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

// Error is an error a worker's entry returned. Only its message crosses the
// process boundary, and the registered sentinels it matched (RegisterError),
// which errors.Is finds through Unwrap.
type Error struct {
	Name string // the entry
	Pid  int
	Msg  string

	sentinels []error
}

func (e *Error) Error() string {
	return fmt.Sprintf("mp: worker %q (pid %d): %s", e.Name, e.Pid, e.Msg)
}

// Unwrap returns the registered sentinels the worker's error matched.
func (e *Error) Unwrap() []error { return e.sentinels }

// PanicError reports a panic in a worker: in its entry, or in any goroutine
// of the worker, as far as the Go runtime's crash report tells.
type PanicError struct {
	Name  string
	Pid   int
	Value string // the panic value as printed
	Stack string // the stack of the panicking goroutine (or the runtime's traceback)
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("mp: worker %q (pid %d) panicked: %s", e.Name, e.Pid, e.Value)
}

// ExitError reports a worker that ended without reporting a result: it
// called os.Exit or was killed by a signal.
type ExitError struct {
	Name   string
	Pid    int
	Code   int            // exit status, or -1 when killed by a signal
	Signal syscall.Signal // the signal that killed it, or 0
}

func (e *ExitError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("mp: worker %q (pid %d) was killed by signal %d (%v)", e.Name, e.Pid, int(e.Signal), e.Signal)
	}
	return fmt.Sprintf("mp: worker %q (pid %d) exited with status %d before its entry returned", e.Name, e.Pid, e.Code)
}

// parseCrash splits the Go runtime's fatal error output into the panic value
// and the traceback after it.
func parseCrash(out string) (value, stack string) {
	head, stack, _ := strings.Cut(out, "\n\ngoroutine ")
	if stack != "" {
		stack = "goroutine " + stack
	}
	head = strings.TrimSpace(head)
	if v, ok := strings.CutPrefix(head, "panic: "); ok {
		head = v
	}
	return head, stack
}
