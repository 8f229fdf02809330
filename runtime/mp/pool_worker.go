package mp

// The worker side of a Pool, and the messages between it and the parent.
//
// Each worker has its own inbox and outbox Queue and a progress word. The
// parent sends a batch of inputs as one message: seq (uint32), count
// (uint32), then each input as a length (uint32) and its encoding. The
// worker stores seq<<32|k in its progress word before it runs input k, and
// answers each batch, in order, with one message or more: seq, count, then
// for each input a status byte, a length and the result's encoding (or, for
// a failure, an encoded poolFailure); an answer of large results is split so
// that none outgrows the outbox. A batch of no inputs tells the worker to
// exit.
//
// Because a worker takes and answers its batches in order, the parent knows
// at a worker's death exactly what it held: the batches it sent that were
// not answered (the answers already published are drained first), and, from
// the progress word, the one input that was running. That input fails; the
// others go back to the pool.

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/worker"
)

// poolArgs is what a pool worker receives at start.
type poolArgs struct {
	Inbox, Outbox *Queue[[]byte]
	Progress      *Int[uint64]
	InitName      string
	InitArg       []byte
	MaxTasks      int
}

const (
	batchHeader = 8
	itemHeader  = 4
	resultOK    = 0
	resultError = 1
	resultPanic = 2
	// poolQueueBytes is the byte capacity of each worker's inbox and
	// outbox: the largest batch of encoded inputs or results. It leaves
	// room for the Queue's headers in a 4 MiB block of the arena.
	poolQueueBytes = 4<<20 - 4096
)

// poolFailure is an input's failure as it crosses from worker to parent.
type poolFailure struct {
	Msg       string
	Sentinels []string
	Stack     string
}

func appendHeader(b []byte, seq uint32, n int) []byte {
	b = binary.LittleEndian.AppendUint32(b, seq)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// nextItem splits the first length-prefixed item off b.
func nextItem(b []byte) (item, rest []byte, err error) {
	if len(b) < itemHeader {
		return nil, nil, fmt.Errorf("%w: pool message item of %d bytes", ErrCorrupt, len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[itemHeader:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: pool message item of %d bytes in %d", ErrCorrupt, n, len(b))
	}
	return b[:n], b[n:], nil
}

func parseHeader(b []byte) (seq uint32, n int, rest []byte, err error) {
	if len(b) < batchHeader {
		return 0, 0, nil, fmt.Errorf("%w: pool message of %d bytes", ErrCorrupt, len(b))
	}
	return binary.LittleEndian.Uint32(b), int(binary.LittleEndian.Uint32(b[4:])), b[batchHeader:], nil
}

// serve is the body of a pool worker process.
func (f *PoolFunc[A, R]) serve(ctx context.Context, b []byte) error {
	a, err := codec.Decode[poolArgs](b)
	if err != nil {
		return fmt.Errorf("decode pool argument: %w", err)
	}
	if a.InitName != "" {
		run := worker.Lookup(a.InitName)
		if run == nil {
			return fmt.Errorf("pool initializer %q is not registered (make it with mp.NewFunc at package level)", a.InitName)
		}
		if err := run(ctx, a.InitArg); err != nil {
			return fmt.Errorf("pool initializer %q: %w", a.InitName, err)
		}
	}
	var out []byte
	done := 0
	for {
		rec, err := a.Inbox.GetContext(ctx)
		if err != nil {
			return err
		}
		seq, n, items, err := parseHeader(rec)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		out = appendHeader(out[:0], seq, 0)
		answered := 0
		for k := range n {
			a.Progress.Store(uint64(seq)<<32 | uint64(k))
			var item []byte
			if item, items, err = nextItem(items); err != nil {
				return err
			}
			at := len(out)
			out = f.runOne(ctx, out, item)
			if len(out)-at > maxInputBytes {
				out = appendFailure(out[:at], resultError, poolFailure{
					Msg:       fmt.Sprintf("%v: the result's encoding takes %d bytes, more than a pool message holds (%d)", ErrTooLarge, len(out)-at, maxInputBytes),
					Sentinels: worker.SentinelNames(ErrTooLarge)})
			}
			// Large results go in several answers, so none outgrows the
			// outbox; the last answer of a batch is never empty.
			if len(out) > maxBatchBytes && k < n-1 {
				if err := f.flush(ctx, a.Outbox, out, k+1-answered); err != nil {
					return err
				}
				answered = k + 1
				out = appendHeader(out[:0], seq, 0)
			}
		}
		if err := f.flush(ctx, a.Outbox, out, n-answered); err != nil {
			return err
		}
		done += n
		if a.MaxTasks > 0 && done >= a.MaxTasks {
			return nil
		}
	}
}

// flush puts an answer of n outcomes in the outbox.
func (f *PoolFunc[A, R]) flush(ctx context.Context, outbox *Queue[[]byte], out []byte, n int) error {
	binary.LittleEndian.PutUint32(out[4:], uint32(n))
	return outbox.PutContext(ctx, out)
}

// runOne decodes one input, runs the function on it and appends the
// outcome to out.
func (f *PoolFunc[A, R]) runOne(ctx context.Context, out, item []byte) []byte {
	x, err := f.in.Decode(item)
	if err != nil {
		return appendFailure(out, resultError, poolFailure{Msg: fmt.Sprintf("decode input: %v", err)})
	}
	r, err, p := f.call(ctx, x)
	switch {
	case p != nil:
		return appendFailure(out, resultPanic, *p)
	case err != nil:
		return appendFailure(out, resultError, poolFailure{Msg: err.Error(), Sentinels: worker.SentinelNames(err)})
	}
	at := len(out)
	out = append(out, resultOK, 0, 0, 0, 0)
	out, err = f.out.Append(out, r)
	if err != nil {
		return appendFailure(out[:at], resultError, poolFailure{Msg: fmt.Sprintf("encode result: %v", err)})
	}
	binary.LittleEndian.PutUint32(out[at+1:], uint32(len(out)-at-1-itemHeader))
	return out
}

func (f *PoolFunc[A, R]) call(ctx context.Context, x A) (r R, err error, p *poolFailure) {
	defer func() {
		if v := recover(); v != nil {
			p = &poolFailure{Msg: fmt.Sprint(v), Stack: string(debug.Stack())}
		}
	}()
	r, err = f.fn(ctx, x)
	return r, err, nil
}

func appendFailure(out []byte, status byte, pf poolFailure) []byte {
	b, err := codec.Append(nil, pf)
	if err != nil {
		panic(fmt.Sprintf("mp: encode a pool failure: %v", err)) // strings only: cannot fail
	}
	out = append(out, status)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
	return append(out, b...)
}

// decodeResult turns one outcome of a worker's answer into a result or an
// error, in the parent.
func (f *PoolFunc[A, R]) decodeResult(b []byte, pid int) (r R, err error, rest []byte) {
	if len(b) < 1 {
		return r, fmt.Errorf("%w: pool answer too short", ErrCorrupt), nil
	}
	status := b[0]
	item, rest, err := nextItem(b[1:])
	if err != nil {
		return r, err, nil
	}
	if status == resultOK {
		r, err = f.out.Decode(item)
		if err != nil {
			err = fmt.Errorf("decode result: %w", err)
		}
		return r, err, rest
	}
	pf, err := codec.Decode[poolFailure](item)
	if err != nil {
		return r, fmt.Errorf("%w: pool failure: %v", ErrCorrupt, err), rest
	}
	if status == resultPanic {
		return r, &PanicError{Name: f.name, Pid: pid, Value: pf.Msg, Stack: pf.Stack}, rest
	}
	return r, worker.NewError(f.name, pid, pf.Msg, pf.Sentinels), rest
}
