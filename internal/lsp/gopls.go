package lsp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// child is one gopls process.
type child struct {
	gen   int
	cmd   *exec.Cmd
	stdin io.Closer
	peer  *peer
	// ready is whether the editor's messages go to it: from the start for
	// the first gopls (the editor drives its handshake), after the replayed
	// handshake for a restarted one.
	ready bool
	// calls are its requests the editor has yet to answer.
	calls    map[jsonrpc2.ID]bool
	initID   jsonrpc2.ID             // the initialize a restart sent
	initDone chan *jsonrpc2.Response // its answer
	exited   chan struct{}           // closed when the process has been waited for
}

// pipes joins gopls's stdout and stdin into the peer's connection.
type pipes struct {
	io.ReadCloser
	io.WriteCloser
}

func (p pipes) Close() error {
	err := p.WriteCloser.Close()
	if err2 := p.ReadCloser.Close(); err == nil {
		err = err2
	}
	return err
}

// startGopls starts a gopls and the goroutine that reads it. s.mu is held.
func (s *session) startGopls() (*child, error) {
	cmd := exec.Command(s.opts.Gopls)
	cmd.Stderr = s.opts.Log
	cmd.Env = os.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("lsp: starting gopls: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("lsp: starting gopls: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lsp: starting gopls %s: %w", s.opts.Gopls, err)
	}
	s.gen++
	c := &child{
		gen:      s.gen,
		cmd:      cmd,
		stdin:    stdin,
		peer:     newPeer("gopls", pipes{stdout, stdin}, s.log),
		calls:    map[jsonrpc2.ID]bool{},
		initDone: make(chan *jsonrpc2.Response, 1),
		exited:   make(chan struct{}),
	}
	go func() {
		for {
			m, err := c.peer.read()
			if err != nil {
				break
			}
			s.fromGopls(c, m)
		}
		werr := cmd.Wait()
		close(c.exited)
		s.goplsExited(c, werr)
	}()
	return c, nil
}

// fromGopls handles one message from gopls c, in the order received.
func (s *session) fromGopls(c *child, m jsonrpc2.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != s.gopls {
		return // the last words of a gopls that has been replaced
	}
	switch m := m.(type) {
	case *jsonrpc2.Notification:
		if m.Method() == protocol.MethodTextDocumentPublishDiagnostics {
			s.goplsDiagnostics(m)
			return
		}
		s.editor.send(m)
	case *jsonrpc2.Call:
		c.calls[m.ID()] = true
		s.editor.send(m)
	case *jsonrpc2.Response:
		if !c.ready && m.ID() == c.initID {
			c.initDone <- m
			return
		}
		f, ok := s.forwarded[m.ID()]
		if !ok {
			s.log.Printf("gopls answered request %v, which no one asked", m.ID())
			return
		}
		delete(s.forwarded, m.ID())
		switch f.method {
		case protocol.MethodInitialize:
			s.goplsInitialized(m)
		case protocol.MethodTextDocumentCodeAction:
			s.mergeCodeActions(m, f.call)
		default:
			s.editor.send(m)
		}
	}
}

// goplsInitialized relays gopls's initialize answer, noting the position
// encoding it chose: the editor's positions are counted in it.
func (s *session) goplsInitialized(m *jsonrpc2.Response) {
	var r struct {
		Capabilities struct {
			PositionEncoding string `json:"positionEncoding"`
		} `json:"capabilities"`
	}
	if m.Err() == nil {
		if err := json.Unmarshal(m.Result(), &r); err != nil {
			s.log.Printf("gopls's initialize answer: %v", err)
		}
	}
	s.enc = parseEncoding(r.Capabilities.PositionEncoding)
	s.editor.send(m)
}

// goplsExited handles the end of gopls c. Unless the editor is shutting
// down, the editor is told, the requests gopls owed are answered, its
// diagnostics are withdrawn and a new gopls is started.
func (s *session) goplsExited(c *child, werr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != s.gopls {
		return
	}
	s.gopls = nil
	if s.stopping || s.shutdown {
		return
	}
	why := "exited"
	if werr != nil {
		why = werr.Error()
	}

	var initCall *jsonrpc2.Call
	for id, f := range s.forwarded {
		switch f.method {
		case protocol.MethodInitialize:
			initCall = f.call // sent again to the next gopls
			continue
		case protocol.MethodTextDocumentCodeAction:
			var p protocol.CodeActionParams
			if json.Unmarshal(f.call.Params(), &p) == nil {
				s.editor.reply(id, s.codeActions(p), nil)
				break
			}
			fallthrough
		default:
			s.editor.reply(id, nil, jsonrpc2.Errorf(codeRequestFailed, "gopls %s before answering %s", why, f.method))
		}
		delete(s.forwarded, id)
	}
	for uri, f := range s.files {
		if len(f.gopls) > 0 {
			f.gopls = nil
			s.publish(uri, f.mpraceVersion)
		}
	}

	now := time.Now()
	recent := s.crashes[:0]
	for _, t := range s.crashes {
		if now.Sub(t) < restartWindow {
			recent = append(recent, t)
		}
	}
	s.crashes = append(recent, now)
	if len(s.crashes) > maxRestarts {
		s.showMessage(protocol.MessageTypeError, "gopls %s, %d times within %v; mprace lsp carries on without it (only mprace's diagnostics). Restart the language server to try gopls again.", why, len(s.crashes), restartWindow)
		return
	}
	s.showMessage(protocol.MessageTypeWarning, "gopls %s; mprace lsp is restarting it", why)
	next, err := s.startGopls()
	if err != nil {
		s.showMessage(protocol.MessageTypeError, "mprace lsp could not restart gopls (%v); only mprace's diagnostics are shown", err)
		return
	}
	s.gopls = next
	switch {
	case initCall != nil || s.initParams == nil:
		// The editor has not finished its own handshake: it drives this
		// gopls's, as it would have the first's.
		next.ready = true
		if initCall != nil {
			next.peer.send(initCall)
		}
	default:
		next.initID = jsonrpc2.NewStringID(fmt.Sprintf("mprace-restart-%d", next.gen))
		call, err := jsonrpc2.NewCall(next.initID, protocol.MethodInitialize, s.initParams)
		if err != nil {
			s.log.Printf("replaying initialize: %v", err)
			next.cmd.Process.Kill()
			return
		}
		next.peer.send(call)
		go s.handshake(next)
	}
}

// handshake finishes a restarted gopls's handshake and reopens the editor's
// buffers in it.
func (s *session) handshake(c *child) {
	var r *jsonrpc2.Response
	select {
	case r = <-c.initDone:
	case <-c.exited:
		return // goplsExited has dealt with it
	case <-time.After(2 * time.Minute):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c != s.gopls {
		return
	}
	if r == nil || r.Err() != nil {
		s.log.Printf("restarted gopls did not initialize: %v", r)
		c.cmd.Process.Kill() // its exit is handled as a crash
		return
	}
	c.peer.notify(protocol.MethodInitialized, struct{}{})
	for _, d := range s.docs {
		c.peer.notify(protocol.MethodTextDocumentDidOpen, protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
			URI:        d.uri,
			LanguageID: protocol.LanguageIdentifier(d.languageID),
			Version:    d.version,
			Text:       string(d.text),
		}})
	}
	c.ready = true
	s.editor.notify(protocol.MethodWindowLogMessage, protocol.LogMessageParams{Type: protocol.MessageTypeInfo, Message: "mprace lsp: gopls restarted"})
}
