package lsp_test

import (
	"os"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// document is the test editor's buffer of one file.
type document struct {
	uri     protocol.DocumentURI
	path    string
	text    string
	version int32
}

func (c *client) open(path string) *document {
	b, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	d := &document{uri: uri.File(path), path: path, text: string(b), version: 1}
	c.notify(protocol.MethodTextDocumentDidOpen, protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: d.uri, LanguageID: "go", Version: d.version, Text: d.text,
	}})
	return d
}

// edit replaces the first occurrence of old in the buffer by new, sending
// the change as a range (the test files are ASCII: columns are bytes in
// every encoding).
func (c *client) edit(d *document, old, new string) {
	c.t.Helper()
	i := strings.Index(d.text, old)
	if i < 0 {
		c.t.Fatalf("%q not in %s", old, d.path)
	}
	c.change(d, i, i+len(old), new)
}

// change replaces the bytes [i, j) of the buffer by new.
func (c *client) change(d *document, i, j int, new string) {
	rng := protocol.Range{Start: pos(d.text, i), End: pos(d.text, j)}
	d.text = d.text[:i] + new + d.text[j:]
	d.version++
	c.notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: d.uri}, Version: d.version},
		"contentChanges": []map[string]any{{"range": rng, "text": new}},
	})
}

// apply applies a workspace edit's edits of d to the buffer and sends the
// whole new text.
func (c *client) apply(d *document, we *protocol.WorkspaceEdit) {
	c.t.Helper()
	var edits []protocol.TextEdit
	for _, dc := range we.DocumentChanges {
		if dc.TextDocument.URI == d.uri {
			if dc.TextDocument.Version == nil || *dc.TextDocument.Version != d.version {
				c.t.Fatalf("edit for version %v of %s, buffer is at %d", dc.TextDocument.Version, d.uri, d.version)
			}
			edits = append(edits, dc.Edits...)
		}
	}
	edits = append(edits, we.Changes[d.uri]...)
	if len(edits) == 0 {
		c.t.Fatalf("workspace edit %+v does not edit %s", we, d.uri)
	}
	// Apply from the end, so earlier offsets stay valid.
	for i := len(edits) - 1; i >= 0; i-- {
		for j := 0; j < i; j++ {
			if offset(d.text, edits[j].Range.Start) > offset(d.text, edits[j+1].Range.Start) {
				edits[j], edits[j+1] = edits[j+1], edits[j]
			}
		}
	}
	text := d.text
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		text = text[:offset(text, e.Range.Start)] + e.NewText + text[offset(text, e.Range.End):]
	}
	d.text = text
	d.version++
	c.notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: d.uri}, Version: d.version},
		"contentChanges": []map[string]any{{"text": d.text}},
	})
}

// save writes the buffer to disk and tells the server.
func (c *client) save(d *document) {
	write(c.t, d.path, d.text)
	c.notify(protocol.MethodTextDocumentDidSave, protocol.DidSaveTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: d.uri}})
}

func pos(text string, off int) protocol.Position {
	line := strings.Count(text[:off], "\n")
	return protocol.Position{Line: uint32(line), Character: uint32(off - (strings.LastIndex(text[:off], "\n") + 1))}
}

func offset(text string, p protocol.Position) int {
	off := 0
	for range p.Line {
		off += strings.IndexByte(text[off:], '\n') + 1
	}
	return off + int(p.Character)
}
