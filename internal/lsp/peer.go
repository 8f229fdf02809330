package lsp

import (
	"context"
	"fmt"
	"io"
	"log"
	"sync"

	"go.lsp.dev/jsonrpc2"
)

// peer is one end of the relay (the editor, or gopls): a framed JSON-RPC
// stream whose writes go through an unbounded queue drained by a goroutine
// of its own. The session sends while holding its lock, so a send must never
// wait for a pipe: gopls blocked writing to us while we wait to write to it
// would deadlock both.
type peer struct {
	name   string
	stream jsonrpc2.Stream
	log    *log.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []jsonrpc2.Message
	closing bool
	err     error         // the first write error
	drained chan struct{} // closed when the writer has stopped
}

func newPeer(name string, rwc io.ReadWriteCloser, log *log.Logger) *peer {
	p := &peer{name: name, stream: jsonrpc2.NewStream(rwc), log: log, drained: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	go p.write()
	return p
}

// send queues m; it never blocks. Messages are written in the order sent.
func (p *peer) send(m jsonrpc2.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing || p.err != nil {
		return
	}
	p.queue = append(p.queue, m)
	p.cond.Signal()
}

func (p *peer) notify(method string, params any) {
	n, err := jsonrpc2.NewNotification(method, params)
	if err != nil {
		p.log.Printf("lsp: encoding %s for %s: %v", method, p.name, err)
		return
	}
	p.send(n)
}

func (p *peer) reply(id jsonrpc2.ID, result any, rerr error) {
	r, err := jsonrpc2.NewResponse(id, result, rerr)
	if err != nil {
		p.log.Printf("lsp: encoding a response to %s: %v", p.name, err)
		return
	}
	p.send(r)
}

func (p *peer) write() {
	defer close(p.drained)
	for {
		p.mu.Lock()
		for len(p.queue) == 0 && !p.closing {
			p.cond.Wait()
		}
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return
		}
		m := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		if _, err := p.stream.Write(context.Background(), m); err != nil {
			p.mu.Lock()
			p.err = fmt.Errorf("lsp: writing to %s: %w", p.name, err)
			p.queue = nil
			p.mu.Unlock()
			return
		}
	}
}

func (p *peer) read() (jsonrpc2.Message, error) {
	m, _, err := p.stream.Read(context.Background())
	return m, err
}

// flush stops accepting messages and waits until the queued ones are
// written (or writing failed).
func (p *peer) flush() {
	p.mu.Lock()
	p.closing = true
	p.cond.Signal()
	p.mu.Unlock()
	<-p.drained
}

// close flushes, then closes the stream.
func (p *peer) close() error {
	p.flush()
	return p.stream.Close()
}

// stdio is the editor's end: our stdin and stdout.
type stdio struct {
	io.Reader
	io.Writer
}

func (s stdio) Close() error {
	var errs []error
	for _, c := range []any{s.Reader, s.Writer} {
		if c, ok := c.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
