package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// ErrExitWithoutShutdown is returned by Serve when the editor sent exit
// without shutdown first; the protocol asks for exit status 1.
var ErrExitWithoutShutdown = errors.New("lsp: exit without shutdown")

// ErrEditorGone is returned by Serve when the editor closed the connection
// without exit.
var ErrEditorGone = errors.New("lsp: the editor closed the connection without exit")

// Options configure a server.
type Options struct {
	// Gopls is the gopls executable to start and relay to; empty runs alone.
	Gopls string
	// Debounce is how long after the last change to an unsaved buffer its
	// package is analysed.
	Debounce time.Duration
	// Log receives the server's own log (never the protocol).
	Log io.Writer
}

// Error codes of LSP beyond JSON-RPC's.
const (
	codeRequestFailed jsonrpc2.Code = -32803
)

// maxRestarts is how many times gopls is restarted within restartWindow
// before the server carries on without it.
const (
	maxRestarts   = 3
	restartWindow = time.Minute
)

// session owns the server's state; every field below mu is guarded by it.
type session struct {
	opts   Options
	log    *log.Logger
	editor *peer
	an     *analysis

	mu sync.Mutex
	// relay is whether gopls was asked for; gopls is the current child (nil
	// when it could not start, has exited for good, or alone).
	relay    bool
	gopls    *child
	goplsErr error       // why gopls could not be started at first
	crashes  []time.Time // recent unexpected gopls exits
	gen      int         // children started

	initParams json.RawMessage // the editor's initialize, replayed to a restarted gopls
	enc        encoding
	docChanges bool // the client applies versioned documentChanges
	shutdown   bool
	stopping   bool

	docs  map[protocol.DocumentURI]*document
	files map[protocol.DocumentURI]*fileDiagnostics
	// forwarded are the editor's requests gopls has yet to answer.
	forwarded map[jsonrpc2.ID]forwardedCall

	exited chan error // the editor's exit notification
}

// forwardedCall is an editor request relayed to gopls, kept for its answer.
type forwardedCall struct {
	method string
	call   *jsonrpc2.Call
}

// Serve runs the server on in and out until the editor's exit or the end of
// in. It returns nil after shutdown and exit.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	s := &session{
		opts:      opts,
		log:       log.New(opts.Log, "mprace lsp: ", log.LstdFlags|log.Lmicroseconds),
		relay:     opts.Gopls != "",
		docs:      map[protocol.DocumentURI]*document{},
		files:     map[protocol.DocumentURI]*fileDiagnostics{},
		forwarded: map[jsonrpc2.ID]forwardedCall{},
		exited:    make(chan error, 1),
	}
	s.editor = newPeer("the editor", stdio{in, out}, s.log)
	an, err := newAnalysis(s)
	if err != nil {
		return err
	}
	s.an = an
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.an.start(ctx)

	if s.relay {
		s.mu.Lock()
		c, err := s.startGopls()
		if err != nil {
			s.goplsErr = err
			s.log.Print(err)
		} else {
			c.ready = true
			s.gopls = c
		}
		s.mu.Unlock()
	}

	readErr := make(chan error, 1)
	go func() {
		for {
			m, err := s.editor.read()
			if err != nil {
				readErr <- err
				return
			}
			s.fromEditor(m)
		}
	}()

	var result error
	select {
	case result = <-s.exited:
	case err := <-readErr:
		result = fmt.Errorf("%w: %v", ErrEditorGone, err)
	case <-ctx.Done():
		result = ctx.Err()
	}
	cancel()
	s.stop()
	return result
}

// stop ends gopls (politely first: it has been sent exit when the editor
// sent it) and flushes what is queued for the editor.
func (s *session) stop() {
	s.mu.Lock()
	s.stopping = true
	c := s.gopls
	s.mu.Unlock()
	if c != nil {
		c.peer.flush()
		c.stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(3 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	s.an.wait()
	s.editor.flush()
}

// showMessage tells the user something in the editor's own UI.
func (s *session) showMessage(typ protocol.MessageType, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Print(msg)
	s.editor.notify(protocol.MethodWindowShowMessage, protocol.ShowMessageParams{Type: typ, Message: msg})
}

// file returns the diagnostics state of uri, creating it.
func (s *session) file(uri protocol.DocumentURI) *fileDiagnostics {
	f := s.files[uri]
	if f == nil {
		f = &fileDiagnostics{}
		s.files[uri] = f
	}
	return f
}
