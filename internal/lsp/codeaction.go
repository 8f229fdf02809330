package lsp

import (
	"bytes"
	"encoding/json"
	"os"
	"sort"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// finding is one mprace diagnostic with its suggested fixes.
type finding struct {
	diag  protocol.Diagnostic
	fixes []fix
}

// fix is a suggested fix as LSP edits, with the contents they were computed
// on: a fix is offered only while every file it edits still has them.
type fix struct {
	title string
	edits map[protocol.DocumentURI][]protocol.TextEdit
	base  map[protocol.DocumentURI][]byte
}

// codeActions returns mprace's quickfixes for the diagnostics in p's range.
func (s *session) codeActions(p protocol.CodeActionParams) []protocol.CodeAction {
	actions := []protocol.CodeAction{}
	if !wantsQuickfix(p.Context.Only) {
		return actions
	}
	f := s.files[p.TextDocument.URI]
	if f == nil {
		return actions
	}
	for _, fd := range f.mprace {
		if !overlaps(fd.diag.Range, p.Range) {
			continue
		}
		for _, fx := range fd.fixes {
			if !s.current(fx) {
				continue
			}
			actions = append(actions, protocol.CodeAction{
				Title:       fx.title,
				Kind:        protocol.QuickFix,
				Diagnostics: []protocol.Diagnostic{fd.diag},
				IsPreferred: len(fd.fixes) == 1,
				Edit:        s.workspaceEdit(fx),
			})
		}
	}
	return actions
}

// current reports whether every file fx edits still has the contents the
// fix was computed on.
func (s *session) current(fx fix) bool {
	for u, base := range fx.base {
		var now []byte
		if d := s.docs[u]; d != nil {
			now = d.text
		} else if path, ok := filename(u); ok {
			now, _ = os.ReadFile(path)
		}
		if !bytes.Equal(now, base) {
			return false
		}
	}
	return true
}

// workspaceEdit spells fx for the client: versioned documentChanges when
// it takes them and every edited file is open, so that a client refuses an
// edit of a buffer changed since; plain changes otherwise.
func (s *session) workspaceEdit(fx fix) *protocol.WorkspaceEdit {
	uris := make([]protocol.DocumentURI, 0, len(fx.edits))
	for u := range fx.edits {
		uris = append(uris, u)
	}
	sort.Slice(uris, func(i, j int) bool { return uris[i] < uris[j] })
	versioned := s.docChanges
	for _, u := range uris {
		versioned = versioned && s.docs[u] != nil
	}
	if !versioned {
		return &protocol.WorkspaceEdit{Changes: fx.edits}
	}
	var we protocol.WorkspaceEdit
	for _, u := range uris {
		we.DocumentChanges = append(we.DocumentChanges, protocol.TextDocumentEdit{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u},
				Version:                &s.docs[u].version,
			},
			Edits: fx.edits[u],
		})
	}
	return &we
}

// wantsQuickfix reports whether a request limited to kinds only takes
// quickfixes.
func wantsQuickfix(only []protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, k := range only {
		if k == "" || k == protocol.QuickFix || strings.HasPrefix(string(protocol.QuickFix), string(k)+".") {
			return true
		}
	}
	return false
}

func before(a, b protocol.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
}

// overlaps reports whether two ranges share a position, ends included (a
// cursor at either end of a diagnostic is on it).
func overlaps(a, b protocol.Range) bool {
	return !before(a.End, b.Start) && !before(b.End, a.Start)
}

// mergeCodeActions answers the editor's code action request with gopls's
// actions followed by mprace's.
func (s *session) mergeCodeActions(r *jsonrpc2.Response, call *jsonrpc2.Call) {
	var p protocol.CodeActionParams
	if err := json.Unmarshal(call.Params(), &p); err != nil {
		s.editor.send(r)
		return
	}
	ours := s.codeActions(p)
	if r.Err() != nil {
		if len(ours) == 0 {
			s.editor.send(r)
			return
		}
		s.editor.reply(r.ID(), ours, nil)
		return
	}
	if len(ours) == 0 {
		s.editor.send(r)
		return
	}
	var items []json.RawMessage
	if res := bytes.TrimSpace(r.Result()); len(res) > 0 && !bytes.Equal(res, []byte("null")) {
		if err := json.Unmarshal(res, &items); err != nil {
			s.log.Printf("gopls's code actions: %v; relayed without mprace's", err)
			s.editor.send(r)
			return
		}
	}
	for _, a := range ours {
		b, err := json.Marshal(a)
		if err != nil {
			s.log.Printf("encoding a code action: %v", err)
			continue
		}
		items = append(items, b)
	}
	s.editor.reply(r.ID(), items, nil)
}
