package mp

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/worker"
)

// Main runs the worker's function when this process is a worker started by
// Func.Start, and returns at once otherwise. Call it first thing in main, and
// in TestMain for tests that start workers: everything before it runs in every
// worker too, and a worker never returns from it.
func Main() { worker.Main(inheritArena) }

// inheritArena attaches a worker to its family's arena before its argument
// is decoded, so that the handles in the argument find their objects.
func inheritArena(files []*os.File) error {
	if len(files) != 1 {
		return fmt.Errorf("mp: worker inherited %d files, want the shared arena alone", len(files))
	}
	return arena.InheritFamily(files[0])
}

// Errors a worker reports through Process.Join, and the conditions of Start.
type (
	// WorkerError is an error a worker's function returned. Its message
	// crosses over; so do the sentinels registered with RegisterError (all
	// of this package's are), so errors.Is(err, ErrClosed) works on it.
	WorkerError = worker.Error
	// PanicError reports a panic in a worker, with its value and stack.
	PanicError = worker.PanicError
	// ExitError reports a worker that exited or was killed by a signal
	// without its function returning.
	ExitError = worker.ExitError
)

var (
	// ErrNoMain reports a program that starts workers without calling Main
	// first thing in main (and in TestMain).
	ErrNoMain = worker.ErrNoMain
	// ErrMainLate reports a worker whose program made shared objects before
	// calling Main.
	ErrMainLate = arena.ErrMainLate
	// ErrNotRegistered reports a worker function made with NewFunc anywhere
	// but at package level, so that a worker does not have it.
	ErrNotRegistered = worker.ErrNotRegistered
)

// RegisterError lets errors.Is find err in what Join returns when a worker's
// function returned an error matching it. Call it at package level, with a
// name unique to the program (the package path and variable name, say).
func RegisterError(name string, err error) { worker.RegisterError(name, err) }

func init() {
	for _, s := range [...]struct {
		name string
		err  error
	}{
		{"mp.ErrOwnerDead", ErrOwnerDead},
		{"mp.ErrLocked", ErrLocked},
		{"mp.ErrCorrupt", ErrCorrupt},
		{"mp.ErrTypeMismatch", ErrTypeMismatch},
		{"mp.ErrNoSpace", ErrNoSpace},
		{"mp.ErrPointers", ErrPointers},
		{"mp.ErrUnknownArena", ErrUnknownArena},
		{"mp.ErrClosed", ErrClosed},
		{"mp.ErrFull", ErrFull},
		{"mp.ErrEmpty", ErrEmpty},
		{"mp.ErrTooLarge", ErrTooLarge},
		{"mp.ErrNoMain", ErrNoMain},
		{"mp.ErrMainLate", ErrMainLate},
		{"mp.ErrNotRegistered", ErrNotRegistered},
	} {
		RegisterError(s.name, s.err)
	}
}

// Func is a function that runs in a worker process. Make it with NewFunc in
// a package-level variable.
type Func[A any] struct {
	name string
	ran  atomic.Bool // a worker has run it: starts need not wait any more
}

// NewFunc registers fn to run in workers under name, which must be unique in
// the program. Call it in a package-level variable declaration: a worker
// re-executes the program and finds fn by name before main's own code runs.
//
// The argument is encoded as Queue items are, so it may mix plain values with handles
// (Lock, Value, Array, Int, Queue, Dict, List), which attach in the worker to
// the same shared objects.
func NewFunc[A any](name string, fn func(ctx context.Context, arg A) error) *Func[A] {
	worker.Register(name, func(ctx context.Context, b []byte) error {
		arg, err := codec.Decode[A](b)
		if err != nil {
			return fmt.Errorf("decode argument: %w", err) // the parent adds the worker's name and pid
		}
		return fn(ctx, arg)
	})
	return &Func[A]{name: name}
}

// Start runs the function in a new worker process with arg. Cancelling ctx
// kills the worker; Join then reports the context's error. The worker's
// standard output and error are this process's.
//
// Start returns as soon as the new process runs: most of a start is that
// process's Go runtime and package initialisation, which then overlaps the
// caller's next starts, so a plain loop of Start keeps every core busy. A
// worker that cannot run the function reports why through Join. The first
// Start of each Func is the exception: it returns once its worker runs the
// function, so that the usual mistakes fail right there (a Func made anywhere
// but at package level, a program that does not call Main first thing, or
// makes shared objects before it). Start is safe for concurrent use.
func (f *Func[A]) Start(ctx context.Context, arg A) (*Process, error) {
	return f.start(ctx, arg, !f.ran.Load())
}

// start starts a worker, and waits until it runs the function if wait is
// set (a failure to get there is then start's error, not Join's).
func (f *Func[A]) start(ctx context.Context, arg A, wait bool) (*Process, error) {
	// The arena must exist before the worker does: the worker maps it at
	// start, and objects made later by either process live in it.
	a, err := arena.Family()
	if err != nil {
		return nil, fmt.Errorf("mp: Start %q: %w", f.name, err)
	}
	enc, err := codec.Append(nil, arg)
	if err != nil {
		return nil, fmt.Errorf("mp: Start %q: encode argument: %w", f.name, err)
	}
	if m, ok := arena.NamedIn(enc); ok {
		return nil, fmt.Errorf("mp: Start %q: the argument holds a handle of the Manager %q, which a worker does not inherit: pass the Manager's name and open it in the worker with OpenManager", f.name, m)
	}
	var opts []worker.Option
	if !wait {
		opts = append(opts, worker.WithoutWait())
	}
	p, err := worker.Start(ctx, f.name, enc, []*os.File{a.File()}, opts...)
	if err != nil {
		return nil, err
	}
	if wait {
		// Workers find the function and reach it: later starts need not
		// wait to learn that again.
		f.ran.Store(true)
	}
	return &Process{p: p}, nil
}

// Process is a worker started by Func.Start. It is reaped as soon as it
// exits, whether or not anyone joins it.
type Process struct {
	p *worker.Process
}

// Pid returns the worker's process id.
func (p *Process) Pid() int { return p.p.Pid() }

// Join waits for the worker to exit. It returns nil when the function
// returned nil, and otherwise a *WorkerError with the function's error, a
// *PanicError, an *ExitError, or an error wrapping the context's error when
// cancellation killed the worker. Every call returns the same.
func (p *Process) Join() error { return p.p.Wait() }

// WaitRunning waits until the worker runs its function, which Start does not
// (except for each Func's first start). It returns nil once the function
// runs, Join's error if the worker ended before it could, or ctx's error.
func (p *Process) WaitRunning(ctx context.Context) error { return p.p.WaitRunning(ctx) }

// Done is closed when the worker has exited, for selecting with a timeout.
func (p *Process) Done() <-chan struct{} { return p.p.Done() }

// Kill ends the worker with SIGKILL. It does nothing once the worker exited.
func (p *Process) Kill() error { return p.p.Kill() }

// Terminate asks the worker to stop: the context of its function is
// cancelled, and it is up to the function to return. (Python's terminate
// sends SIGTERM; a worker here does not handle SIGTERM, so one sent from
// elsewhere ends it at once, as it ends a Python worker.)
func (p *Process) Terminate() error { return p.p.Terminate() }
