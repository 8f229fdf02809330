package lsp

import (
	"encoding/json"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// fromEditor handles one message from the editor, in the order received.
func (s *session) fromEditor(m jsonrpc2.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m := m.(type) {
	case *jsonrpc2.Call:
		switch m.Method() {
		case protocol.MethodInitialize:
			s.initialize(m)
		case protocol.MethodShutdown:
			s.shutdownCall(m)
		case protocol.MethodTextDocumentCodeAction:
			s.codeAction(m)
		default:
			s.forwardCall(m)
		}
	case *jsonrpc2.Notification:
		switch m.Method() {
		case protocol.MethodTextDocumentDidOpen:
			s.didOpen(m)
		case protocol.MethodTextDocumentDidChange:
			s.didChange(m)
		case protocol.MethodTextDocumentDidSave:
			s.didSave(m)
		case protocol.MethodTextDocumentDidClose:
			s.didClose(m)
		case protocol.MethodExit:
			s.exit(m)
		case protocol.MethodWorkspaceDidChangeWatchedFiles:
			s.didChangeWatchedFiles(m)
		default:
			s.forwardNotification(m)
		}
	case *jsonrpc2.Response:
		// The editor's answer to a request of gopls's. A restarted gopls
		// never asked: its predecessor's answers are dropped.
		if c := s.gopls; c != nil && c.calls[m.ID()] {
			delete(c.calls, m.ID())
			c.peer.send(m)
		}
	}
}

// live returns the gopls that takes the editor's messages now, if any.
func (s *session) live() *child {
	if c := s.gopls; c != nil && c.ready {
		return c
	}
	return nil
}

func (s *session) forwardCall(m *jsonrpc2.Call) {
	if c := s.live(); c != nil {
		s.forwarded[m.ID()] = forwardedCall{method: m.Method(), call: m}
		c.peer.send(m)
		return
	}
	if s.relay && s.gopls != nil {
		s.editor.reply(m.ID(), nil, jsonrpc2.NewError(codeRequestFailed, "gopls is restarting; try again in a moment"))
		return
	}
	s.editor.reply(m.ID(), nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "mprace lsp: method %q not supported without gopls", m.Method()))
}

// forwardNotification relays a notification to gopls; while gopls restarts
// there is no one to tell (text changes are kept in the documents and
// replayed as didOpen).
func (s *session) forwardNotification(m *jsonrpc2.Notification) {
	if c := s.live(); c != nil {
		c.peer.send(m)
	}
}

func (s *session) initialize(m *jsonrpc2.Call) {
	s.initParams = append(json.RawMessage(nil), m.Params()...)
	var p struct {
		Capabilities struct {
			Workspace struct {
				WorkspaceEdit struct {
					DocumentChanges bool `json:"documentChanges"`
				} `json:"workspaceEdit"`
			} `json:"workspace"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.editor.reply(m.ID(), nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "mprace lsp: initialize: %v", err))
		return
	}
	s.docChanges = p.Capabilities.Workspace.WorkspaceEdit.DocumentChanges
	if c := s.live(); c != nil {
		// gopls's answer says which position encoding it chose (goplsInitialized).
		s.forwarded[m.ID()] = forwardedCall{method: m.Method(), call: m}
		c.peer.send(m)
		return
	}
	// Alone, positions count UTF-16 code units: the default every client
	// supports.
	s.enc = utf16
	s.editor.reply(m.ID(), protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindIncremental,
				Save:      &protocol.SaveOptions{},
			},
			CodeActionProvider: protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.QuickFix}},
		},
		ServerInfo: &protocol.ServerInfo{Name: "mprace"},
	}, nil)
	if s.goplsErr != nil {
		s.showMessage(protocol.MessageTypeError, "mprace lsp could not start gopls (%v): only mprace's diagnostics are shown", s.goplsErr)
	}
}

func (s *session) shutdownCall(m *jsonrpc2.Call) {
	s.shutdown = true
	if c := s.live(); c != nil {
		s.forwarded[m.ID()] = forwardedCall{method: m.Method(), call: m}
		c.peer.send(m)
		return
	}
	s.editor.reply(m.ID(), nil, nil)
}

func (s *session) exit(m *jsonrpc2.Notification) {
	s.stopping = true
	if c := s.live(); c != nil {
		c.peer.send(m)
	}
	var err error
	if !s.shutdown {
		err = ErrExitWithoutShutdown
	}
	select {
	case s.exited <- err:
	default:
	}
}

func (s *session) codeAction(m *jsonrpc2.Call) {
	if c := s.live(); c != nil {
		s.forwarded[m.ID()] = forwardedCall{method: m.Method(), call: m}
		c.peer.send(m)
		return
	}
	var p protocol.CodeActionParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.editor.reply(m.ID(), nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "mprace lsp: textDocument/codeAction: %v", err))
		return
	}
	s.editor.reply(m.ID(), s.codeActions(p), nil)
}
