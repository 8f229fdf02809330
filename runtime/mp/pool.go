package mp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/worker"
)

// Pool errors.
var (
	// ErrPoolClosed reports a submission to a Pool after Close or Terminate.
	ErrPoolClosed = errors.New("mp: pool is closed")
	// ErrPoolTerminated is the error of every task a Terminate (or a broken
	// pool) abandoned.
	ErrPoolTerminated = errors.New("mp: pool was terminated")
	// ErrPoolRunning reports Wait on a Pool that was neither closed nor
	// terminated, which would wait forever.
	ErrPoolRunning = errors.New("mp: Wait on a pool that is not closed: call Close or Terminate first")
)

// TaskError is the error of one input of a Pool: the function returned an
// error or panicked (Err is a *WorkerError or a *PanicError), or the worker
// running it died (Err is an *ExitError), or the pool stopped before running
// it.
type TaskError struct {
	Index int // the input's position in Map's inputs (0 for Submit)
	Input any // the input
	Err   error
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("mp: pool task %d (input %v): %v", e.Index, e.Input, e.Err)
}

func (e *TaskError) Unwrap() error { return e.Err }

// PoolFunc is a function that a Pool's worker processes run on each input.
// Make it with NewPoolFunc in a package-level variable.
type PoolFunc[A, R any] struct {
	name string
	in   codec.Codec[A]
	out  codec.Codec[R]
	fn   func(context.Context, A) (R, error)
}

// NewPoolFunc registers fn to run in the workers of Pools under name, which
// must be unique in the program (and differ from NewFunc's names). Call it in
// a package-level variable declaration, so that worker processes have it.
//
// Inputs and results of pointer-free types are copied raw; strings and byte
// slices as they are; anything else in the format Queue uses, handles included.
func NewPoolFunc[A, R any](name string, fn func(ctx context.Context, x A) (R, error)) *PoolFunc[A, R] {
	f := &PoolFunc[A, R]{name: name, in: codec.For[A](), out: codec.For[R](), fn: fn}
	worker.Register(name, f.serve)
	return f
}

// PoolOption configures NewPool.
type PoolOption func(*poolConfig)

type poolConfig struct {
	maxTasks int
	initName string
	initArg  []byte
	initErr  error
}

// MaxTasksPerWorker makes each worker exit after running n inputs, to be
// replaced by a fresh one (Python's maxtasksperchild). A chunk is never
// split, so a worker may run up to a chunk more. 0, the default, keeps
// workers for the pool's life.
func MaxTasksPerWorker(n int) PoolOption { return func(c *poolConfig) { c.maxTasks = n } }

// WithInitializer runs f with arg in each worker process when it starts,
// before its first input (Python's initializer and initargs). A worker whose
// initializer fails breaks the pool: every task not yet done fails with the
// initializer's error.
func WithInitializer[I any](f *Func[I], arg I) PoolOption {
	return func(c *poolConfig) {
		c.initName = f.name
		c.initArg, c.initErr = codec.Append(nil, arg)
	}
}

// Pool is a fixed set of worker processes that run one PoolFunc on many
// inputs, like Python's multiprocessing.Pool. Map returns results in input
// order, Unordered yields them as they finish, Submit runs one input and
// returns a handle to its result.
//
// A worker that dies (killed, crashed, exited) fails only the input it was
// running, with a *TaskError naming the input and wrapping an *ExitError;
// the other inputs it held run on the others and a new worker takes its
// place. A panic or an error in the function fails only its input, and the
// worker goes on. Methods may be called from many goroutines.
type Pool[A, R any] struct {
	f       *PoolFunc[A, R]
	cfg     poolConfig
	mu      sync.Mutex
	cond    *sync.Cond // pending grew, or the pool is closing
	pending []*unit[A, R]
	state   poolState
	cause   error // why a broken pool stopped
	slots   []*poolSlot[A, R]
	exited  sync.WaitGroup // one per slot goroutine
}

type poolState uint8

const (
	poolOpen poolState = iota
	poolClosed
	poolTerminated
)

// NewPool starts workers processes running f (runtime.NumCPU() when workers
// is 0 or less) and returns once they run.
func NewPool[A, R any](f *PoolFunc[A, R], workers int, opts ...PoolOption) (*Pool[A, R], error) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	p := &Pool[A, R]{f: f}
	for _, o := range opts {
		o(&p.cfg)
	}
	if p.cfg.initErr != nil {
		return nil, fmt.Errorf("mp: NewPool %q: initializer argument: %w", f.name, p.cfg.initErr)
	}
	if p.cfg.maxTasks < 0 {
		return nil, fmt.Errorf("mp: NewPool %q: MaxTasksPerWorker(%d) is negative", f.name, p.cfg.maxTasks)
	}
	p.cond = sync.NewCond(&p.mu)
	if err := p.startSlots(workers); err != nil {
		p.Terminate()
		for _, s := range p.slots {
			<-s.proc.Done()
			s.free()
		}
		return nil, fmt.Errorf("mp: NewPool %q: %w", f.name, err)
	}
	for _, s := range p.slots {
		p.exited.Add(2)
		go s.feed()
		go s.collect()
	}
	go func() {
		// Collectors return only after their worker died, so no process
		// uses the slots' shared objects any more.
		p.exited.Wait()
		for _, s := range p.slots {
			s.free()
		}
	}()
	return p, nil
}

// startSlots starts the pool's workers from as many goroutines as workers may
// be starting at once: a start waits for its worker to run, and the wait is
// mostly the new process's initialisation, which the others' overlap. p.slots keeps the order of the
// slots and holds only those that started; the error is the first slot's
// that failed.
func (p *Pool[A, R]) startSlots(workers int) error {
	slots := make([]*poolSlot[A, R], workers)
	errs := make([]error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, worker.MaxStarting()) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < workers; i = int(next.Add(1) - 1) {
				slots[i], errs[i] = newPoolSlot(p)
			}
		})
	}
	wg.Wait()
	var first error
	for i, s := range slots {
		if s != nil {
			p.slots = append(p.slots, s)
		}
		if first == nil {
			first = errs[i] // the others, if any, failed alike
		}
	}
	return first
}

// Workers returns the pids of the pool's current workers.
func (p *Pool[A, R]) Workers() []int {
	var pids []int
	for _, s := range p.slots {
		s.mu.Lock()
		if s.proc != nil {
			pids = append(pids, s.proc.Pid())
		}
		s.mu.Unlock()
	}
	return pids
}

// Map runs the function on every input and returns the results in input
// order (Python's map). Inputs are sent in chunks of chunk inputs (0 picks
// one so that each worker gets about four). It returns when every input is
// done: the error is nil, or joins one *TaskError per failed input (whose
// result is R's zero value), or is ctx's error if ctx ended first.
func (p *Pool[A, R]) Map(ctx context.Context, inputs []A, chunk int) ([]R, error) {
	m := &mapSink[R]{results: make([]R, len(inputs)), done: make(chan struct{})}
	m.left.Store(int64(len(inputs)))
	if len(inputs) == 0 {
		return m.results, nil
	}
	ctx = orBackground(ctx)
	if err := p.submit(ctx, inputs, chunk, m); err != nil {
		return nil, err
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		m.cancel()
		return nil, fmt.Errorf("mp: Pool.Map: %w", ctx.Err())
	}
	return m.results, m.err()
}

// Unordered runs the function on every input and yields each result as it
// finishes (Python's imap_unordered), with nil or a *TaskError. Breaking
// out of the loop, or ctx ending, abandons the inputs not yet done; ctx's
// end is yielded as a last error.
func (p *Pool[A, R]) Unordered(ctx context.Context, inputs []A, chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		if len(inputs) == 0 {
			return
		}
		ctx = orBackground(ctx)
		s := &streamSink[R]{ch: make(chan streamed[R], len(inputs))}
		defer s.cancel()
		if err := p.submit(ctx, inputs, chunk, s); err != nil {
			yield(*new(R), err)
			return
		}
		for range inputs {
			select {
			case r := <-s.ch:
				if !yield(r.r, r.err) {
					return
				}
			case <-ctx.Done():
				yield(*new(R), fmt.Errorf("mp: Pool.Unordered: %w", ctx.Err()))
				return
			}
		}
	}
}

// Imap runs the function on every input and yields the results in input
// order as they become available (Python's imap), each with nil or a
// *TaskError. Breaking out of the loop, or ctx ending, abandons the inputs
// not yet done; ctx's end is yielded as a last error.
func (p *Pool[A, R]) Imap(ctx context.Context, inputs []A, chunk int) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		if len(inputs) == 0 {
			return
		}
		ctx = orBackground(ctx)
		s := &orderedSink[R]{slots: make([]streamed[R], len(inputs)), ready: make([]chan struct{}, len(inputs))}
		for i := range s.ready {
			s.ready[i] = make(chan struct{})
		}
		defer s.cancel()
		if err := p.submit(ctx, inputs, chunk, s); err != nil {
			yield(*new(R), err)
			return
		}
		for i := range inputs {
			select {
			case <-s.ready[i]:
				if !yield(s.slots[i].r, s.slots[i].err) {
					return
				}
			case <-ctx.Done():
				yield(*new(R), fmt.Errorf("mp: Pool.Imap: %w", ctx.Err()))
				return
			}
		}
	}
}

// Submit runs the function on x in some worker and returns a handle to its
// result at once (Python's apply_async). Cancelling ctx before a worker
// takes x abandons it; the handle then reports ctx's error.
func (p *Pool[A, R]) Submit(ctx context.Context, x A) (*AsyncResult[R], error) {
	ctx = orBackground(ctx)
	r := &AsyncResult[R]{done: make(chan struct{})}
	if err := p.submit(ctx, []A{x}, 1, r); err != nil {
		return nil, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { r.deliver(0, *new(R), fmt.Errorf("mp: Pool.Submit: %w", ctx.Err())) })
		r.stop.Store(&stop)
		if r.Ready() {
			stop()
		}
	}
	return r, nil
}

// Apply runs the function on x in a worker and waits for its result
// (Python's apply).
func (p *Pool[A, R]) Apply(ctx context.Context, x A) (R, error) {
	r, err := p.Submit(ctx, x)
	if err != nil {
		return *new(R), err
	}
	return r.Get(orBackground(ctx))
}

func (p *Pool[A, R]) submit(ctx context.Context, inputs []A, chunk int, s sink[R]) error {
	if p.f == nil {
		// A zero Pool has no workers: its inputs would wait forever.
		return fmt.Errorf("mp: use of a %s not made by NewPool", p.typeName())
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mp: Pool: %w", err)
	}
	if chunk <= 0 {
		chunk = max(1, (len(inputs)+4*len(p.slots)-1)/(4*len(p.slots)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != poolOpen {
		return fmt.Errorf("mp: Pool %q: %w", p.f.name, ErrPoolClosed)
	}
	for i := 0; i < len(inputs); i += chunk {
		j := min(i+chunk, len(inputs))
		p.pending = append(p.pending, &unit[A, R]{xs: inputs[i:j:j], base: i, sink: s})
	}
	p.cond.Broadcast()
	return nil
}

// Close stops the pool taking inputs; the workers exit once every input
// submitted so far is done (Python's close).
func (p *Pool[A, R]) Close() error {
	p.mu.Lock()
	if p.state == poolOpen {
		p.state = poolClosed
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}

// Terminate kills the workers at once (Python's terminate): every input not
// yet done fails with ErrPoolTerminated.
func (p *Pool[A, R]) Terminate() error {
	p.stop(ErrPoolTerminated)
	return nil
}

// stop kills the workers and fails what is left with cause.
func (p *Pool[A, R]) stop(cause error) {
	p.mu.Lock()
	if p.state == poolTerminated {
		p.mu.Unlock()
		return
	}
	p.state, p.cause = poolTerminated, cause
	left := p.pending
	p.pending = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, u := range left {
		u.fail(cause)
	}
	for _, s := range p.slots {
		s.kill()
	}
}

// Wait waits for the workers to exit after Close or Terminate (Python's
// join). After Close, that is once every submitted input is done.
func (p *Pool[A, R]) Wait() error {
	p.mu.Lock()
	st := p.state
	p.mu.Unlock()
	if st == poolOpen {
		return ErrPoolRunning
	}
	p.exited.Wait()
	return nil
}

// take waits for pending inputs and returns up to limit of them, merging
// single submissions into one message, counting the batch in the taker's
// holding. It returns nil when the pool is done: closed and drained, or
// terminated.
func (p *Pool[A, R]) take(limit int, holding *atomic.Int32) []*unit[A, R] {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.pending) > 0 && p.pending[0].sink.cancelled() {
			p.pending = p.pending[1:]
		}
		if p.state == poolTerminated {
			return nil
		}
		if len(p.pending) > 0 {
			break
		}
		if p.state == poolClosed && !p.busy() {
			p.cond.Broadcast()
			return nil
		}
		p.cond.Wait()
	}
	out := []*unit[A, R]{p.pending[0]}
	n := len(p.pending[0].xs)
	// Small units queued behind this one ride along up to a share of what
	// is waiting, so a burst of Submits is not a message per input yet the
	// other workers still get their part.
	share := min(limit, max(1, len(p.pending)/(2*len(p.slots))))
	i := 1
	for ; i < len(p.pending) && n+len(p.pending[i].xs) <= share; i++ {
		if !p.pending[i].sink.cancelled() {
			out = append(out, p.pending[i])
			n += len(p.pending[i].xs)
		}
	}
	p.pending[0] = nil
	p.pending = p.pending[i:]
	holding.Add(1)
	return out
}

// busy reports whether any worker holds inputs; p.mu is held.
func (p *Pool[A, R]) busy() bool {
	for _, s := range p.slots {
		if s.holding.Load() != 0 {
			return true
		}
	}
	return false
}

// requeue puts units back at the head of the pending list.
func (p *Pool[A, R]) requeue(us []*unit[A, R]) {
	if len(us) == 0 {
		return
	}
	p.mu.Lock()
	if p.state == poolTerminated {
		cause := p.cause
		p.mu.Unlock()
		for _, u := range us {
			u.fail(cause)
		}
		return
	}
	p.pending = append(us[:len(us):len(us)], p.pending...)
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *Pool[A, R]) wakeFeeders() {
	p.mu.Lock()
	p.cond.Broadcast()
	p.mu.Unlock()
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func (p *Pool[A, R]) typeName() string {
	return fmt.Sprintf("Pool[%s, %s]", reflect.TypeFor[A](), reflect.TypeFor[R]())
}
