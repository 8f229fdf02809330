package mp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

const (
	// slotDepth is how many batches a worker holds at once: one running
	// and one waiting, so it never idles between batches, while what a
	// death sends back to the pool stays small.
	slotDepth = 2
	// submitBatch bounds how many queued single inputs ride in one message.
	submitBatch = 64
)

// poolSlot is one worker's place in the pool, kept across replacements:
// its queues, its progress word, and in this process the batches it holds.
// A feeder goroutine sends it inputs and a collector goroutine takes its
// answers and replaces it when it dies.
type poolSlot[A, R any] struct {
	p              *Pool[A, R]
	inbox, outbox  *Queue[[]byte]
	progress       *Int[uint64]
	holding        atomic.Int32 // batches sent and not answered, read under p.mu
	mu             sync.Mutex
	cond           *sync.Cond // room for a batch, or a change of worker
	proc           *Process
	cur            atomic.Pointer[Process] // proc, for kill, which must not wait for mu
	ctx            context.Context         // ends when proc dies
	inflight       []poolBatch[A, R]
	seq            uint32
	sent           int  // inputs sent to the current worker
	retired        bool // the worker reached MaxTasksPerWorker: send it nothing more
	dead, finished bool
}

type poolBatch[A, R any] struct {
	seq   uint32
	units []*unit[A, R]
	n     int // inputs in units
	got   int // of which answered: a worker answers a batch in one or more messages
}

func newPoolSlot[A, R any](p *Pool[A, R]) (*poolSlot[A, R], error) {
	s := &poolSlot[A, R]{p: p}
	s.cond = sync.NewCond(&s.mu)
	var err error
	if s.inbox, err = NewQueue[[]byte](WithByteCapacity(poolQueueBytes)); err == nil {
		if s.outbox, err = NewQueue[[]byte](WithByteCapacity(poolQueueBytes)); err == nil {
			if s.progress, err = NewInt[uint64](0); err == nil {
				err = s.start()
			}
		}
	}
	if err != nil {
		s.free()
		return nil, err
	}
	return s, nil
}

// free gives the slot's shared objects back to the arena once no process
// uses them.
func (s *poolSlot[A, R]) free() {
	if s.inbox != nil {
		s.inbox.ref.Arena.FreeObject(s.inbox.ref.Off)
	}
	if s.outbox != nil {
		s.outbox.ref.Arena.FreeObject(s.outbox.ref.Off)
	}
	if s.progress != nil {
		s.progress.ref.Arena.FreeObject(s.progress.ref.Off)
	}
}

// start runs a new worker in the slot; s.mu is held or not yet shared.
func (s *poolSlot[A, R]) start() error {
	args := poolArgs{Inbox: s.inbox, Outbox: s.outbox, Progress: s.progress,
		InitName: s.p.cfg.initName, InitArg: s.p.cfg.initArg, MaxTasks: s.p.cfg.maxTasks}
	// Waiting, so that a worker that cannot start breaks the pool here
	// rather than being replaced by another that cannot either.
	proc, err := (&Func[poolArgs]{name: s.p.f.name}).start(context.Background(), args, true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-proc.Done()
		cancel()
	}()
	s.proc, s.ctx, s.sent, s.retired, s.dead = proc, ctx, 0, false, false
	s.cur.Store(proc)
	return nil
}

// kill ends the slot for Terminate. It kills the worker before it takes
// mu, which a feeder holds while it waits for room in the worker's inbox.
func (s *poolSlot[A, R]) kill() {
	if p := s.cur.Load(); p != nil {
		p.Kill()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = true
	if s.proc != nil {
		s.proc.Kill()
	}
	s.cond.Broadcast()
}

// feed sends pending inputs to the worker, up to slotDepth batches at once.
func (s *poolSlot[A, R]) feed() {
	defer s.p.exited.Done()
	for {
		s.mu.Lock()
		for !s.finished && (s.dead || s.retired || len(s.inflight) >= slotDepth) {
			s.cond.Wait()
		}
		finished, limit := s.finished, submitBatch
		if max := s.p.cfg.maxTasks; max > 0 {
			limit = min(limit, max-s.sent)
		}
		s.mu.Unlock()
		if finished {
			return
		}
		units := s.p.take(limit, &s.holding)
		if units == nil {
			s.mu.Lock()
			if !s.finished && !s.dead {
				// The pool is closed and drained: let the worker exit.
				_ = s.inbox.PutContext(s.ctx, appendHeader(nil, 0, 0))
			}
			s.mu.Unlock()
			return
		}
		s.send(units)
	}
}

// send encodes units as one batch and puts it in the worker's inbox.
func (s *poolSlot[A, R]) send(units []*unit[A, R]) {
	rec, held, rest, n := s.encode(units)
	s.p.requeue(rest)
	if n == 0 {
		s.holding.Add(-1)
		s.p.wakeFeeders()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished || s.dead {
		s.p.requeue(held)
		s.holding.Add(-1)
		return
	}
	s.seq++
	binary.LittleEndian.PutUint32(rec, s.seq)
	s.inflight = append(s.inflight, poolBatch[A, R]{seq: s.seq, units: held, n: n})
	s.sent += n
	if max := s.p.cfg.maxTasks; max > 0 && s.sent >= max {
		s.retired = true
	}
	// A worker that dies meanwhile ends s.ctx; its collector then takes
	// the batch back from inflight.
	if err := s.inbox.PutContext(s.ctx, rec); err != nil && s.ctx.Err() == nil {
		s.inflight = s.inflight[:len(s.inflight)-1]
		s.holding.Add(-1)
		for _, u := range held {
			u.fail(fmt.Errorf("send inputs to the worker: %w", err))
		}
		s.p.wakeFeeders()
	}
}

const (
	// maxBatchBytes is where a batch stops taking inputs; the rest wait
	// for the next one.
	maxBatchBytes = poolQueueBytes / 4
	// maxInputBytes is the largest encoded input: half an inbox.
	maxInputBytes = poolQueueBytes / 2
)

// encode encodes units as one batch of at most maxBatchBytes (unless its
// first input alone is larger). It returns the batch, the units it holds
// (cut where needed), the units that did not fit, which go back to the
// pool, and how many inputs it holds. An input that cannot be encoded, or
// is too large for any batch, fails at once.
func (s *poolSlot[A, R]) encode(units []*unit[A, R]) (rec []byte, held, rest []*unit[A, R], n int) {
	rec = appendHeader(make([]byte, 0, batchHeader+len(units)*(itemHeader+8)), 0, 0)
	for ui, u := range units {
		start := 0 // u.xs[start:k] are in the batch, not yet in held
		for k, x := range u.xs {
			at := len(rec)
			rec = append(rec, 0, 0, 0, 0)
			var err error
			rec, err = s.p.f.in.Append(rec, x)
			size := len(rec) - at - itemHeader
			if err == nil && size > maxInputBytes {
				err = fmt.Errorf("%w: the input's encoding takes %d bytes, more than a pool message holds (%d)", ErrTooLarge, size, maxInputBytes)
			}
			if err != nil {
				rec = rec[:at]
				held = appendRun(held, u, start, k)
				start = k + 1
				u.sink.deliver(u.base+k, *new(R), &TaskError{Index: u.base + k, Input: x, Err: fmt.Errorf("encode input: %w", err)})
				continue
			}
			if len(rec) > maxBatchBytes && n > 0 {
				rec = rec[:at]
				held = appendRun(held, u, start, k)
				rest = append([]*unit[A, R]{{xs: u.xs[k:], base: u.base + k, sink: u.sink}}, units[ui+1:]...)
				binary.LittleEndian.PutUint32(rec[4:], uint32(n))
				return rec, held, rest, n
			}
			binary.LittleEndian.PutUint32(rec[at:], uint32(size))
			n++
		}
		held = appendRun(held, u, start, len(u.xs))
	}
	binary.LittleEndian.PutUint32(rec[4:], uint32(n))
	return rec, held, nil, n
}

// appendRun appends u.xs[i:j] to held as a unit, u itself when whole.
func appendRun[A, R any](held []*unit[A, R], u *unit[A, R], i, j int) []*unit[A, R] {
	switch {
	case i >= j:
		return held
	case i == 0 && j == len(u.xs):
		return append(held, u)
	}
	return append(held, &unit[A, R]{xs: u.xs[i:j:j], base: u.base + i, sink: u.sink})
}

// collect delivers the worker's answers, and replaces it when it dies.
func (s *poolSlot[A, R]) collect() {
	defer s.p.exited.Done()
	for {
		s.mu.Lock()
		ctx, proc := s.ctx, s.proc
		s.mu.Unlock()
		rec, err := s.outbox.GetContext(ctx)
		if err == nil {
			s.answer(rec, proc.Pid())
			continue
		}
		if ctx.Err() == nil {
			// A damaged outbox: the worker's answers cannot be trusted.
			proc.Kill()
			<-proc.Done()
		}
		if !s.died(proc) {
			return
		}
	}
}

// answer delivers the results in one answer to the oldest batch.
func (s *poolSlot[A, R]) answer(rec []byte, pid int) {
	seq, n, rest, err := parseHeader(rec)
	s.mu.Lock()
	if err != nil || len(s.inflight) == 0 || s.inflight[0].seq != seq || n <= 0 || s.inflight[0].got+n > s.inflight[0].n {
		s.mu.Unlock()
		return // not an answer to a batch this slot holds: ignore it
	}
	b := &s.inflight[0]
	units := skipInputs(b.units, b.got)
	b.got += n
	finished := b.got == b.n
	if finished {
		s.inflight = s.inflight[1:]
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	for _, u := range units {
		for k := range u.xs {
			if n == 0 {
				break
			}
			var r R
			var err error
			r, err, rest = s.p.f.decodeResult(rest, pid)
			n--
			if err != nil {
				err = &TaskError{Index: u.base + k, Input: u.xs[k], Err: err}
			}
			u.sink.deliver(u.base+k, r, err)
		}
	}
	if finished && s.holding.Add(-1) == 0 {
		s.p.wakeFeeders()
	}
}

// skipInputs returns units without their first n inputs.
func skipInputs[A, R any](units []*unit[A, R], n int) []*unit[A, R] {
	for len(units) > 0 && n >= len(units[0].xs) {
		n -= len(units[0].xs)
		units = units[1:]
	}
	if n == 0 || len(units) == 0 {
		return units
	}
	u := units[0]
	return append([]*unit[A, R]{{xs: u.xs[n:], base: u.base + n, sink: u.sink}}, units[1:]...)
}

// died handles the death of the slot's worker: it delivers the answers the
// worker published, fails the input it was running, gives the rest of its
// batches back to the pool and starts a replacement. It reports whether the
// slot goes on.
func (s *poolSlot[A, R]) died(proc *Process) bool {
	exitErr := proc.Join()
	for {
		rec, err := s.outbox.TryGet()
		if err != nil {
			break
		}
		s.answer(rec, proc.Pid())
	}
	s.mu.Lock()
	s.dead = true
	held := s.inflight
	s.inflight = nil
	for {
		if _, err := s.inbox.TryGet(); err != nil {
			break
		}
	}
	prog := s.progress.Load()
	s.mu.Unlock()

	var wErr *WorkerError
	broken := errors.As(exitErr, &wErr)
	if broken {
		// The worker's loop returned an error, which only its initializer
		// or a damaged inbox makes it do: a new worker would do the same.
		s.p.stop(fmt.Errorf("mp: pool worker: %w", exitErr))
	}
	if exitErr == nil {
		exitErr = fmt.Errorf("mp: pool worker (pid %d) exited holding inputs", proc.Pid())
	}
	s.p.mu.Lock()
	terminated, cause := s.p.state == poolTerminated, s.p.cause
	s.p.mu.Unlock()
	if terminated {
		exitErr = cause
	}
	var again []*unit[A, R]
	for _, b := range held {
		k := -1
		if b.seq == uint32(prog>>32) {
			// Inputs before b.got were answered: k counts from there.
			k = int(uint32(prog)) - b.got
		}
		for _, u := range skipInputs(b.units, b.got) {
			switch {
			case k < 0 || k >= len(u.xs):
				again = append(again, u)
			default:
				if k > 0 {
					again = append(again, &unit[A, R]{xs: u.xs[:k:k], base: u.base, sink: u.sink})
				}
				u.sink.deliver(u.base+k, *new(R), &TaskError{Index: u.base + k, Input: u.xs[k], Err: exitErr})
				if k+1 < len(u.xs) {
					again = append(again, &unit[A, R]{xs: u.xs[k+1:], base: u.base + k + 1, sink: u.sink})
				}
			}
			k -= len(u.xs)
		}
	}
	s.p.requeue(again)
	s.holding.Add(-int32(len(held)))
	s.p.wakeFeeders()
	return s.replace()
}

// replace starts a new worker in the slot if the pool still has work for
// it, and reports whether it did.
func (s *poolSlot[A, R]) replace() bool {
	s.p.mu.Lock()
	want := s.p.state == poolOpen || (s.p.state == poolClosed && (len(s.p.pending) > 0 || s.p.busy()))
	s.p.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished || !want {
		s.finished = true
		s.cond.Broadcast()
		return false
	}
	if err := s.start(); err != nil {
		s.finished = true
		s.cond.Broadcast()
		s.mu.Unlock()
		s.p.stop(fmt.Errorf("mp: replace a pool worker: %w", err))
		s.mu.Lock()
		return false
	}
	s.cond.Broadcast()
	return true
}
