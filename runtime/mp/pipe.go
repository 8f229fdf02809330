package mp

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/waitq"
)

// ErrOneWay reports a Send on the receiving end of a one-way Pipe, or a
// Recv on its sending end.
var ErrOneWay = errors.New("mp: this end of a one-way pipe cannot do that")

// Conn is one end of a Pipe, like the Connection objects Python's
// multiprocessing.Pipe returns. Send and Recv carry any T that a Queue can
// (raw, strings, byte slices, the package format).
//
// The process that holds an end is the last one that received it (as a
// worker argument or in a message), or its maker. When the other end is
// closed, or the process holding it dies, Recv returns what was sent before
// and then ErrClosed, and Send fails with ErrClosed: a dead peer reads as a
// closed one, within a second, instead of a hang.
type Conn[T any] struct {
	_ noCopy
	syncObj
	end     int // 0 or 1
	in, out *Queue[T]
}

// pipeState: which process holds each end, and whether it closed it.
type pipeState struct {
	owners [2]uint32
	closed [2]uint32
	w      waitq.Word
}

// NewPipe makes a connected pair of ends. With duplex, both ends send and
// receive; otherwise the first only receives and the second only sends, as
// with Python's Pipe(duplex=False). Options size the queues beneath, as for
// NewQueue.
func NewPipe[T any](duplex bool, opts ...QueueOption) (*Conn[T], *Conn[T], error) {
	ab, err := NewQueue[T](opts...)
	if err != nil {
		return nil, nil, err
	}
	var ba *Queue[T]
	if duplex {
		if ba, err = NewQueue[T](opts...); err != nil {
			return nil, nil, err
		}
	}
	a, b := &Conn[T]{end: 0}, &Conn[T]{end: 1}
	if err := a.init("Pipe", sizeOf[pipeState]()); err != nil {
		return nil, nil, err
	}
	b.syncObj = a.syncObj
	st := a.st()
	st.owners[0], st.owners[1] = a.self, a.self
	a.in, b.out = ab, ab
	a.out, b.in = ba, ba
	if !duplex {
		// One-way: the first end receives what the second sends.
		a.in, a.out, b.in, b.out = ab, nil, nil, ab
	}
	return a, b, nil
}

func (c *Conn[T]) st() *pipeState {
	c.valid("Conn", "NewPipe")
	return syncState[pipeState](&c.syncObj)
}

// peerGone reports whether the other end is closed or its process dead.
func (c *Conn[T]) peerGone(st *pipeState) bool {
	if atomic.LoadUint32(&st.closed[1-c.end]) != 0 {
		return true
	}
	p := atomic.LoadUint32(&st.owners[1-c.end])
	return p != c.self && !c.ref.Arena.Alive(p)
}

// Send sends x to the other end, waiting while the pipe is full.
func (c *Conn[T]) Send(x T) error { return c.SendContext(context.Background(), x) }

// SendContext is Send that gives up when ctx is done.
func (c *Conn[T]) SendContext(ctx context.Context, x T) error {
	st := c.st()
	if c.out == nil {
		return fmt.Errorf("mp: Conn.Send: %w", ErrOneWay)
	}
	if atomic.LoadUint32(&st.closed[c.end]) != 0 {
		return fmt.Errorf("mp: Conn.Send on a closed end: %w", ErrClosed)
	}
	err := c.out.TryPut(x)
	if !errors.Is(err, ErrFull) {
		return err
	}
	for {
		if c.peerGone(st) {
			return fmt.Errorf("mp: Conn.Send: the other end is closed or its process died: %w", ErrClosed)
		}
		wctx, cancel := c.watchPeer(orBackground(ctx), st)
		err = c.out.PutContext(wctx, x)
		cancel()
		if err == nil || ctx.Err() != nil || wctx.Err() == nil {
			return err
		}
	}
}

// Recv receives the next value the other end sent, waiting for one. Once the
// other end is closed or its process dead and everything it sent is
// received, Recv returns ErrClosed.
func (c *Conn[T]) Recv() (T, error) { return c.RecvContext(context.Background()) }

// RecvContext is Recv that gives up when ctx is done.
func (c *Conn[T]) RecvContext(ctx context.Context) (T, error) {
	st := c.st()
	if c.in == nil {
		return *new(T), fmt.Errorf("mp: Conn.Recv: %w", ErrOneWay)
	}
	x, err := c.in.TryGet()
	if !errors.Is(err, ErrEmpty) {
		return x, err
	}
	for {
		if c.peerGone(st) {
			// What it sent before it went is still to be had.
			if x, err := c.in.TryGet(); err == nil {
				return x, nil
			}
			return x, fmt.Errorf("mp: Conn.Recv: the other end is closed or its process died: %w", ErrClosed)
		}
		wctx, cancel := c.watchPeer(orBackground(ctx), st)
		x, err = c.in.GetContext(wctx)
		cancel()
		if err == nil || ctx.Err() != nil || wctx.Err() == nil {
			return x, err
		}
	}
}

// watchPeer returns a context that ends with ctx or when the other end's
// process dies or closes it.
func (c *Conn[T]) watchPeer(ctx context.Context, st *pipeState) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(ctx)
	go func() {
		for wctx.Err() == nil {
			seen := st.w.Seq()
			if c.peerGone(st) {
				cancel()
				return
			}
			p := atomic.LoadUint32(&st.owners[1-c.end])
			if p == c.self {
				p = 0
			}
			st.w.Sleep(wctx, c.ref.Arena, seen, p, syncBackstop)
		}
	}()
	return wctx, cancel
}

// Poll reports whether a value is waiting to be received.
func (c *Conn[T]) Poll() bool { return c.in != nil && c.in.Len() > 0 }

// Close closes this end: the other end receives what was sent, then
// ErrClosed, and its Send fails with ErrClosed. Closing twice does nothing.
func (c *Conn[T]) Close() error {
	st := c.st()
	if !atomic.CompareAndSwapUint32(&st.closed[c.end], 0, 1) {
		return nil
	}
	if c.out != nil {
		c.out.Close()
	}
	if c.in != nil {
		c.in.Close()
	}
	st.w.Notify(0)
	return nil
}

type pipeWire[T any] struct {
	State   []byte
	End     int
	In, Out *Queue[T]
}

// GobEncode sends this end to another process of the family, which then
// holds it.
func (c *Conn[T]) GobEncode() ([]byte, error) {
	if c == nil {
		return nil, nilHandle("Conn")
	}
	s, err := c.encode("Pipe")
	if err != nil {
		return nil, err
	}
	b, err := codec.Append(nil, pipeWire[T]{State: s, End: c.end, In: c.in, Out: c.out})
	if err != nil {
		return nil, fmt.Errorf("mp: encode Conn[%s]: %w", reflect.TypeFor[T](), err)
	}
	return b, nil
}

// GobDecode attaches to an end sent by another process of the family; this
// process holds it from now on.
func (c *Conn[T]) GobDecode(b []byte) error {
	w, err := codec.Decode[pipeWire[T]](b)
	if err != nil {
		return fmt.Errorf("mp: decode Conn[%s]: %w", reflect.TypeFor[T](), err)
	}
	if (w.End != 0 && w.End != 1) || (w.In == nil && w.Out == nil) {
		return fmt.Errorf("mp: decode Conn[%s]: %w: bad end", reflect.TypeFor[T](), ErrCorrupt)
	}
	if err := c.decode(w.State, "Pipe", sizeOf[pipeState]()); err != nil {
		return err
	}
	c.end, c.in, c.out = w.End, w.In, w.Out
	st := c.st()
	atomic.StoreUint32(&st.owners[c.end], c.self)
	st.w.Notify(0)
	return nil
}
