package lsp

import (
	"encoding/json"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// fileDiagnostics is what the editor has last been told about one file:
// gopls's diagnostics and mprace's, each replaced only by its own side's
// next publication.
type fileDiagnostics struct {
	// gopls's diagnostics are kept as gopls sent them, so that fields this
	// library does not know (gopls's data for its fixes, newer protocol
	// fields) reach the editor untouched.
	gopls  []json.RawMessage
	mprace []finding
	// mpraceVersion is the buffer version mprace's findings were computed
	// on; nil for the file on disk.
	mpraceVersion *int32
}

// publishParams is PublishDiagnosticsParams with each diagnostic left as
// JSON, for the relay (see fileDiagnostics.gopls).
type publishParams struct {
	URI         protocol.DocumentURI `json:"uri"`
	Version     *int32               `json:"version,omitempty"`
	Diagnostics []json.RawMessage    `json:"diagnostics"`
}

// goplsDiagnostics replaces gopls's diagnostics for a file and tells the
// editor at once, with mprace's appended.
func (s *session) goplsDiagnostics(m *jsonrpc2.Notification) {
	var p publishParams
	if err := json.Unmarshal(m.Params(), &p); err != nil {
		s.log.Printf("gopls's publishDiagnostics: %v; relayed as is", err)
		s.editor.send(m)
		return
	}
	f := s.file(p.URI)
	f.gopls = p.Diagnostics
	if len(f.mprace) == 0 {
		s.editor.send(m) // nothing to add: gopls's message, byte for byte
		return
	}
	s.publish(p.URI, p.Version)
}

// setFindings replaces mprace's findings for a file; the editor is told
// when they changed, or always when force is set (the file that was saved
// or edited: its publication tells the editor the analysis is current).
func (s *session) setFindings(uri protocol.DocumentURI, fs []finding, version *int32, force bool) {
	f := s.file(uri)
	changed := len(f.mprace) != len(fs)
	for i := 0; !changed && i < len(fs); i++ {
		a, _ := json.Marshal(f.mprace[i].diag)
		b, _ := json.Marshal(fs[i].diag)
		changed = string(a) != string(b)
	}
	f.mprace, f.mpraceVersion = fs, version
	if changed || force {
		s.publish(uri, version)
	}
}

// publish sends the editor both sides' diagnostics for uri, labelled with
// the version of whichever side has published last.
func (s *session) publish(uri protocol.DocumentURI, version *int32) {
	f := s.file(uri)
	p := publishParams{URI: uri, Version: version, Diagnostics: make([]json.RawMessage, 0, len(f.gopls)+len(f.mprace))}
	p.Diagnostics = append(p.Diagnostics, f.gopls...)
	for _, fd := range f.mprace {
		b, err := json.Marshal(fd.diag)
		if err != nil {
			s.log.Printf("encoding a diagnostic: %v", err)
			continue
		}
		p.Diagnostics = append(p.Diagnostics, b)
	}
	s.editor.notify(protocol.MethodTextDocumentPublishDiagnostics, p)
}
