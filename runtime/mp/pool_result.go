package mp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// unit is a run of consecutive inputs of one call (a Map chunk, one Submit),
// and where their results go.
type unit[A, R any] struct {
	xs   []A
	base int // index of xs[0] among the call's inputs
	sink sink[R]
}

func (u *unit[A, R]) fail(err error) {
	for k, x := range u.xs {
		u.sink.deliver(u.base+k, *new(R), &TaskError{Index: u.base + k, Input: x, Err: err})
	}
}

// sink receives the results of one call, from the collectors of every
// worker at once.
type sink[R any] interface {
	deliver(i int, r R, err error)
	// cancelled reports that nobody waits for the results any more, so
	// inputs not yet sent can be dropped.
	cancelled() bool
}

// mapSink gathers Map's results in order. Collectors write distinct
// elements of results; the atomic count of what is left orders those writes
// before the close of done that the caller waits for.
type mapSink[R any] struct {
	results []R
	left    atomic.Int64
	mu      sync.Mutex
	errs    []error
	gone    atomic.Bool
	done    chan struct{}
}

func (m *mapSink[R]) deliver(i int, r R, err error) {
	if err != nil {
		m.mu.Lock()
		m.errs = append(m.errs, err)
		m.mu.Unlock()
	} else {
		m.results[i] = r
	}
	if m.left.Add(-1) == 0 {
		close(m.done)
	}
}

func (m *mapSink[R]) cancelled() bool { return m.gone.Load() }
func (m *mapSink[R]) cancel()         { m.gone.Store(true) }

func (m *mapSink[R]) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return errors.Join(m.errs...)
}

// streamSink hands results to Unordered's loop; its channel holds every
// result of the call, so a collector never blocks on a slow consumer.
type streamSink[R any] struct {
	ch   chan streamed[R]
	gone atomic.Bool
}

type streamed[R any] struct {
	r   R
	err error
}

func (s *streamSink[R]) deliver(_ int, r R, err error) { s.ch <- streamed[R]{r, err} }
func (s *streamSink[R]) cancelled() bool               { return s.gone.Load() }
func (s *streamSink[R]) cancel()                       { s.gone.Store(true) }

// AsyncResult is the result of one Pool.Submit, to be collected later
// (Python's AsyncResult).
type AsyncResult[R any] struct {
	once sync.Once
	r    R
	err  error
	done chan struct{}
	stop atomic.Pointer[func() bool] // unhooks the Submit context's AfterFunc
}

func (a *AsyncResult[R]) deliver(_ int, r R, err error) {
	a.once.Do(func() {
		a.r, a.err = r, err
		close(a.done)
		if stop := a.stop.Load(); stop != nil {
			(*stop)()
		}
	})
}

func (a *AsyncResult[R]) cancelled() bool { return a.Ready() }

// Done is closed when the result is ready.
func (a *AsyncResult[R]) Done() <-chan struct{} { return a.done }

// Ready reports whether the result is ready.
func (a *AsyncResult[R]) Ready() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Get waits for the result, or for ctx to end. The error is nil, a
// *TaskError, or ctx's error (the task still runs; Get may be called again).
func (a *AsyncResult[R]) Get(ctx context.Context) (R, error) {
	ctx = orBackground(ctx)
	select {
	case <-a.done:
		return a.r, a.err
	case <-ctx.Done():
		return *new(R), fmt.Errorf("mp: AsyncResult.Get: %w", ctx.Err())
	}
}
