package lsp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// document is a file open in the editor: its buffer, which the analysis
// reads instead of the file on disk.
type document struct {
	uri        protocol.DocumentURI
	path       string
	languageID string
	version    int32
	text       []byte
}

// isGo reports whether the file is Go source the analysis reads.
func isGo(path string) bool { return strings.HasSuffix(path, ".go") }

// isBuildFile reports whether a change to the file may change how every
// package of its module builds.
func isBuildFile(path string) bool {
	switch filepath.Base(path) {
	case "go.mod", "go.work", "go.sum":
		return true
	}
	return false
}

func filename(u protocol.DocumentURI) (string, bool) {
	if !strings.HasPrefix(string(u), "file://") {
		return "", false
	}
	return uri.URI(u).Filename(), true
}

func (s *session) didOpen(m *jsonrpc2.Notification) {
	s.forwardNotification(m)
	var p protocol.DidOpenTextDocumentParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("textDocument/didOpen: %v", err)
		return
	}
	path, ok := filename(p.TextDocument.URI)
	if !ok {
		return
	}
	s.docs[p.TextDocument.URI] = &document{
		uri:        p.TextDocument.URI,
		path:       path,
		languageID: string(p.TextDocument.LanguageID),
		version:    p.TextDocument.Version,
		text:       []byte(p.TextDocument.Text),
	}
	if isGo(path) {
		s.an.schedule(path, 0)
	}
}

// didChangeParams is DidChangeTextDocumentParams with the change's range
// optional: the library's event type cannot tell a whole-buffer replacement
// (no range) from an insertion at the start of the buffer.
type didChangeParams struct {
	TextDocument   protocol.VersionedTextDocumentIdentifier `json:"textDocument"`
	ContentChanges []struct {
		Range *protocol.Range `json:"range"`
		Text  string          `json:"text"`
	} `json:"contentChanges"`
}

func (s *session) didChange(m *jsonrpc2.Notification) {
	s.forwardNotification(m)
	var p didChangeParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("textDocument/didChange: %v", err)
		return
	}
	d := s.docs[p.TextDocument.URI]
	if d == nil {
		s.log.Printf("textDocument/didChange of %s, which is not open", p.TextDocument.URI)
		return
	}
	for _, c := range p.ContentChanges {
		if c.Range == nil {
			d.text = []byte(c.Text)
			continue
		}
		mp := newMapper(d.text, s.enc)
		start, err1 := mp.offset(c.Range.Start)
		end, err2 := mp.offset(c.Range.End)
		if err1 != nil || err2 != nil || end < start {
			// The buffer is no longer known: analyse the file on disk until
			// the editor reopens it, rather than a guess.
			s.log.Printf("textDocument/didChange of %s: bad range %v: %v %v; dropping the buffer", d.uri, *c.Range, err1, err2)
			delete(s.docs, d.uri)
			s.an.schedule(d.path, 0)
			return
		}
		text := make([]byte, 0, len(d.text)-(end-start)+len(c.Text))
		text = append(append(append(text, d.text[:start]...), c.Text...), d.text[end:]...)
		d.text = text
	}
	d.version = p.TextDocument.Version
	if isGo(d.path) {
		s.an.schedule(d.path, s.opts.Debounce)
	}
}

func (s *session) didSave(m *jsonrpc2.Notification) {
	s.forwardNotification(m)
	var p protocol.DidSaveTextDocumentParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("textDocument/didSave: %v", err)
		return
	}
	path, ok := filename(p.TextDocument.URI)
	if !ok {
		return
	}
	if d := s.docs[p.TextDocument.URI]; d != nil && p.Text != "" {
		d.text = []byte(p.Text)
	}
	switch {
	case isGo(path):
		s.an.schedule(path, 0)
	case isBuildFile(path):
		s.scheduleOpen(0)
	}
}

func (s *session) didClose(m *jsonrpc2.Notification) {
	s.forwardNotification(m)
	var p protocol.DidCloseTextDocumentParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("textDocument/didClose: %v", err)
		return
	}
	d := s.docs[p.TextDocument.URI]
	if d == nil {
		return
	}
	delete(s.docs, d.uri)
	// The findings stay, but now describe the file on disk.
	if isGo(d.path) {
		s.an.schedule(d.path, 0)
	}
}

// overlay returns the open buffers, for the analysis.
func (s *session) overlay() map[string][]byte {
	o := make(map[string][]byte, len(s.docs))
	for _, d := range s.docs {
		if isGo(d.path) {
			o[d.path] = d.text
		}
	}
	return o
}

// didChangeWatchedFiles re-analyses the open packages when Go or build files
// change on disk behind the editor's back (a checkout, a generator): their
// dependencies may have changed.
func (s *session) didChangeWatchedFiles(m *jsonrpc2.Notification) {
	s.forwardNotification(m)
	var p protocol.DidChangeWatchedFilesParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("workspace/didChangeWatchedFiles: %v", err)
		return
	}
	for _, c := range p.Changes {
		path, ok := filename(c.URI)
		if !ok || !isGo(path) && !isBuildFile(path) || s.docs[c.URI] != nil {
			continue
		}
		s.scheduleOpen(s.opts.Debounce)
		return
	}
}

// scheduleOpen schedules the analysis of every open Go file.
func (s *session) scheduleOpen(after time.Duration) {
	for _, d := range s.docs {
		if isGo(d.path) {
			s.an.schedule(d.path, after)
		}
	}
}
