package lsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/mprace/mprace/internal/testmodule"
)

// The tests drive the real `mprace lsp`, built once, and the project's
// gopls (scripts/install-tools.sh puts it in ./bin).
var (
	moduleRoot string
	mpraceBin  string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		root, err := findRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		moduleRoot = root
		dir, err := os.MkdirTemp("", "mprace-lsp-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		mpraceBin = filepath.Join(dir, "mprace")
		build := exec.Command("go", "build", "-o", mpraceBin, "./cmd/mprace")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building mprace: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/mprace/mprace\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no mprace module root above %s", dir)
		}
	}
}

// gopls returns the project's gopls; its absence fails the test.
func gopls(t testing.TB) string {
	p := filepath.Join(moduleRoot, "bin", "gopls")
	out, err := exec.Command(p, "version").Output()
	if err != nil {
		t.Fatalf("gopls: %v; run scripts/install-tools.sh to install it into ./bin", err)
	}
	if !strings.Contains(string(out), "v0.23.0") {
		t.Fatalf("bin/gopls is %q, want v0.23.0; run scripts/install-tools.sh", out)
	}
	return p
}

// newModule copies testdata/<name> into a module of its own that uses the
// real runtime/mp through a replace directive.
func newModule(t testing.TB, name string) string {
	src := filepath.Join("testdata", name)
	files := map[string]string{}
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(src, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return testmodule.Write(t, files)
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// client is a test editor: it speaks LSP to a server process over pipes,
// answers the server's requests, and keeps the latest diagnostics of each
// file and every message shown.
type client struct {
	t      testing.TB
	cmd    *exec.Cmd
	stream jsonrpc2.Stream
	wmu    sync.Mutex
	done   chan struct{} // closed when the server's stdout ends
	stderr *lockedBuffer

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every message
	nextID   int32
	waiting  map[jsonrpc2.ID]chan *jsonrpc2.Response
	diags    map[protocol.DocumentURI][]protocol.Diagnostic
	pubs     map[protocol.DocumentURI]int // publications received
	versions map[protocol.DocumentURI]uint32
	messages []protocol.ShowMessageParams
	encoding string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type rwc struct {
	r interface{ Read([]byte) (int, error) }
	w interface {
		Write([]byte) (int, error)
		Close() error
	}
}

func (c rwc) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c rwc) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c rwc) Close() error                { return c.w.Close() }

// startServer starts `mprace lsp args...` in dir.
func startServer(t testing.TB, dir string, args ...string) *client {
	return startServerEnv(t, dir, nil, args...)
}

// startServerEnv starts `mprace lsp args...` in dir with env added to the
// environment.
func startServerEnv(t testing.TB, dir string, env []string, args ...string) *client {
	cmd := exec.Command(mpraceBin, append([]string{"lsp"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOPROXY=off"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{
		t:        t,
		cmd:      cmd,
		stream:   jsonrpc2.NewStream(rwc{stdout, stdin}),
		done:     make(chan struct{}),
		stderr:   &lockedBuffer{},
		changed:  make(chan struct{}),
		waiting:  map[jsonrpc2.ID]chan *jsonrpc2.Response{},
		diags:    map[protocol.DocumentURI][]protocol.Diagnostic{},
		pubs:     map[protocol.DocumentURI]int{},
		versions: map[protocol.DocumentURI]uint32{},
	}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go c.read()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", c.stderr)
		}
	})
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		m, _, err := c.stream.Read(context.Background())
		if err != nil {
			return
		}
		c.handle(m)
	}
}

func (c *client) handle(m jsonrpc2.Message) {
	c.mu.Lock()
	defer func() {
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}()
	switch m := m.(type) {
	case *jsonrpc2.Response:
		if ch, ok := c.waiting[m.ID()]; ok {
			delete(c.waiting, m.ID())
			ch <- m
		}
	case *jsonrpc2.Notification:
		switch m.Method() {
		case protocol.MethodTextDocumentPublishDiagnostics:
			var p protocol.PublishDiagnosticsParams
			if err := json.Unmarshal(m.Params(), &p); err != nil {
				c.t.Errorf("bad publishDiagnostics %s: %v", m.Params(), err)
				return
			}
			c.diags[p.URI] = p.Diagnostics
			c.pubs[p.URI]++
			c.versions[p.URI] = p.Version
		case protocol.MethodWindowShowMessage:
			var p protocol.ShowMessageParams
			if err := json.Unmarshal(m.Params(), &p); err != nil {
				c.t.Errorf("bad showMessage %s: %v", m.Params(), err)
				return
			}
			c.messages = append(c.messages, p)
		}
	case *jsonrpc2.Call:
		// The server's requests: gopls asks for its configuration (one
		// empty settings object per item), progress tokens, registrations.
		var result any
		if m.Method() == protocol.MethodWorkspaceConfiguration {
			var p protocol.ConfigurationParams
			json.Unmarshal(m.Params(), &p)
			items := make([]map[string]any, len(p.Items))
			for i := range items {
				items[i] = map[string]any{}
			}
			result = items
		}
		go c.send(mustResponse(m.ID(), result))
	}
}

func mustResponse(id jsonrpc2.ID, result any) jsonrpc2.Message {
	r, err := jsonrpc2.NewResponse(id, result, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func (c *client) send(m jsonrpc2.Message) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.stream.Write(context.Background(), m); err != nil {
		c.t.Errorf("writing to the server: %v", err)
	}
}

func (c *client) notify(method string, params any) {
	n, err := jsonrpc2.NewNotification(method, params)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(n)
}

// call sends a request and waits for its answer.
func (c *client) call(method string, params, result any) error {
	c.mu.Lock()
	c.nextID++
	id := jsonrpc2.NewNumberID(c.nextID)
	ch := make(chan *jsonrpc2.Response, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	call, err := jsonrpc2.NewCall(id, method, params)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(call)
	select {
	case r := <-ch:
		if r.Err() != nil {
			return r.Err()
		}
		if result != nil {
			return json.Unmarshal(r.Result(), result)
		}
		return nil
	case <-c.done:
		c.t.Fatalf("%s: the server closed its output", method)
	case <-time.After(2 * time.Minute):
		c.t.Fatalf("%s: no answer in 2 minutes", method)
	}
	return nil
}

// waitFor waits until cond (called with c.mu held) holds.
func (c *client) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ok, changed := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			c.mu.Lock()
			defer c.mu.Unlock()
			c.t.Fatalf("waited %v for %s; diagnostics now: %s; messages: %v", timeout, what, dump(c.diags), c.messages)
		case <-c.done:
			c.t.Fatalf("waiting for %s: the server closed its output", what)
		}
	}
}

func dump(d map[protocol.DocumentURI][]protocol.Diagnostic) string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

func (c *client) initialize(dir string) {
	params := map[string]any{
		"processId": os.Getpid(),
		"rootUri":   uri.File(dir),
		"workspaceFolders": []map[string]any{
			{"uri": uri.File(dir), "name": filepath.Base(dir)},
		},
		"capabilities": map[string]any{
			"workspace": map[string]any{
				"configuration": true,
				"workspaceEdit": map[string]any{"documentChanges": true},
			},
			"textDocument": map[string]any{
				"publishDiagnostics": map[string]any{"relatedInformation": true, "versionSupport": true, "codeDescriptionSupport": true},
				"codeAction": map[string]any{
					"codeActionLiteralSupport": map[string]any{
						"codeActionKind": map[string]any{"valueSet": []string{"quickfix", "refactor", "source"}},
					},
				},
			},
		},
	}
	var r struct {
		Capabilities struct {
			PositionEncoding string `json:"positionEncoding"`
		} `json:"capabilities"`
	}
	if err := c.call(protocol.MethodInitialize, params, &r); err != nil {
		c.t.Fatalf("initialize: %v", err)
	}
	c.encoding = r.Capabilities.PositionEncoding
	c.notify(protocol.MethodInitialized, struct{}{})
}

// shutdown ends the session politely and checks the server exits with 0.
func (c *client) shutdown() {
	c.t.Helper()
	if err := c.call(protocol.MethodShutdown, nil, nil); err != nil {
		c.t.Fatalf("shutdown: %v", err)
	}
	c.notify(protocol.MethodExit, nil)
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			c.t.Fatalf("server exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		c.t.Fatal("server did not exit within 30s of exit")
	}
}

// bySource returns the latest diagnostics of u from one source.
func (c *client) bySource(u protocol.DocumentURI, source string) []protocol.Diagnostic {
	var out []protocol.Diagnostic
	for _, d := range c.diags[u] {
		if d.Source == source {
			out = append(out, d)
		}
	}
	return out
}

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
