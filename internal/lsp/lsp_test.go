package lsp_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/mprace/mprace/analyzer"
)

const wait = 90 * time.Second // first analyses and gopls's first load, on a loaded machine

// TestAlone drives `mprace lsp -gopls off` through a racy file, its fix, an
// unsaved edit that introduces a race and a file that does not type-check.
func TestAlone(t *testing.T) {
	dir := newModule(t, "racy")
	c := startServer(t, dir, "-gopls", "off", "-debounce", "50ms")
	c.initialize(dir)
	session(t, c, dir, false)
	var hover any
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{}, &hover); err == nil || !strings.Contains(err.Error(), "not supported without gopls") {
		t.Errorf("hover alone: error %v, want method not supported", err)
	}
	c.shutdown()
}

// TestThroughGopls drives `mprace lsp -gopls bin/gopls` through the same
// session, checking gopls's diagnostics arrive with mprace's, then kills
// gopls mid-session.
func TestThroughGopls(t *testing.T) {
	dir := newModule(t, "racy")
	// A wrapper records gopls's process id, so the test can kill it.
	pids := filepath.Join(t.TempDir(), "pids")
	wrapper := filepath.Join(t.TempDir(), "gopls")
	write(t, wrapper, fmt.Sprintf("#!/bin/sh\necho $$ >> %s\nexec %s \"$@\"\n", pids, gopls(t)))
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	c := startServer(t, dir, "-gopls", wrapper, "-debounce", "50ms")
	c.initialize(dir)
	if c.encoding != "" && c.encoding != "utf-16" {
		t.Logf("gopls chose position encoding %s", c.encoding)
	}
	racy, clean := session(t, c, dir, true)

	// Kill gopls: the editor is told, gopls comes back with the buffers,
	// and both sides' diagnostics are published together again.
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := strconv.Atoi(strings.Fields(string(b))[0])
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.waitFor("a showMessage that gopls exited", wait, func() bool {
		for _, m := range c.messages {
			if strings.Contains(m.Message, "gopls") && strings.Contains(m.Message, "restarting") {
				return true
			}
		}
		return false
	})
	c.waitFor("gopls's printf diagnostic from the restarted gopls beside mprace's in the unsaved buffer", wait, func() bool {
		return len(c.bySource(racy.uri, "printf")) == 1 && len(c.bySource(clean.uri, "mprace")) == 1
	})
	if b, _ := os.ReadFile(pids); len(strings.Fields(string(b))) != 2 {
		t.Errorf("gopls started %d times, want 2", len(strings.Fields(string(b))))
	}
	// The new gopls answers the editor's requests.
	var hover *protocol.Hover
	at := protocol.Position{Line: 11, Character: 3} // c.Store in Inc
	if err := c.call(protocol.MethodTextDocumentHover, protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: racy.uri}, Position: at,
	}}, &hover); err != nil || hover == nil || !strings.Contains(hover.Contents.Value, "mp.Int") {
		t.Errorf("hover after the restart: %+v, %v; want gopls's hover of c", hover, err)
	}
	c.shutdown()
}

// session is the scenario both modes share. It returns the two buffers.
func session(t *testing.T, c *client, dir string, withGopls bool) (racy, clean *document) {
	racy = c.open(filepath.Join(dir, "racy.go"))

	// Open a racy file: mprace's diagnostic, with gopls's in the same
	// publication when relaying.
	c.waitFor("mprace's diagnostic in racy.go", wait, func() bool {
		return len(c.bySource(racy.uri, "mprace")) == 1 && (!withGopls || len(c.bySource(racy.uri, "printf")) == 1)
	})
	c.mu.Lock()
	d := c.bySource(racy.uri, "mprace")[0]
	c.mu.Unlock()
	rmw, _ := analyzer.Lookup("readmodifywrite")
	if d.Code != "readmodifywrite" || d.CodeDescription == nil || string(d.CodeDescription.Href) != rmw.Analyzer.URL {
		t.Errorf("diagnostic code %v, description %+v; want readmodifywrite and %s", d.Code, d.CodeDescription, rmw.Analyzer.URL)
	}
	if d.Range.Start.Line != 11 || d.Severity != protocol.DiagnosticSeverityError || !strings.Contains(d.Message, "read-modify-write of c") {
		t.Errorf("diagnostic %+v; want an error at line 12 about c", d)
	}
	if len(d.RelatedInformation) != 1 || d.RelatedInformation[0].Location.URI != racy.uri ||
		d.RelatedInformation[0].Location.Range.Start != (protocol.Position{Line: 11, Character: 9}) {
		t.Errorf("related information %+v; want the read c.Load at 12:10", d.RelatedInformation)
	}

	// The fix, as a quickfix code action, applied and saved: the diagnostic
	// goes, gopls's stays.
	var actions []protocol.CodeAction
	if err := c.call(protocol.MethodTextDocumentCodeAction, protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: racy.uri},
		Range:        d.Range,
		Context:      protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{d}},
	}, &actions); err != nil {
		t.Fatalf("codeAction: %v", err)
	}
	var fix *protocol.CodeAction
	for i, a := range actions {
		if a.Kind == protocol.QuickFix && len(a.Diagnostics) == 1 && a.Diagnostics[0].Source == "mprace" {
			fix = &actions[i]
		}
	}
	if fix == nil || fix.Edit == nil {
		t.Fatalf("code actions %+v: no mprace quickfix", actions)
	}
	c.apply(racy, fix.Edit)
	if !strings.Contains(racy.text, "c.Add(1)") {
		t.Fatalf("after the fix %q:\n%s\nwant c.Add(1)", fix.Title, racy.text)
	}
	c.save(racy)
	c.waitFor("mprace's diagnostic in racy.go to go after the fix", wait, func() bool {
		return len(c.bySource(racy.uri, "mprace")) == 0 && (!withGopls || len(c.bySource(racy.uri, "printf")) == 1)
	})

	// An unsaved edit that introduces a race is analysed as the buffer.
	clean = c.open(filepath.Join(dir, "clean.go"))
	c.edit(clean, "c.Add(n)", "c.Store(c.Load() + n)")
	c.waitFor("mprace's diagnostic in the unsaved clean.go", wait, func() bool {
		ds := c.bySource(clean.uri, "mprace")
		return len(ds) == 1 && ds[0].Range.Start.Line == 6
	})
	if b, _ := os.ReadFile(clean.path); !strings.Contains(string(b), "c.Add(n)") {
		t.Fatalf("clean.go on disk changed:\n%s", b)
	}

	// A buffer that does not type-check: mprace's diagnostics are cleared,
	// and come back when it does again.
	c.edit(clean, "c.Load() + n", `c.Load() + "n"`)
	c.waitFor("no mprace diagnostics in clean.go while it does not type-check", wait, func() bool {
		return len(c.bySource(clean.uri, "mprace")) == 0 && (!withGopls || len(c.diags[clean.uri]) > 0)
	})
	c.edit(clean, `c.Load() + "n"`, "c.Load() + n")
	c.waitFor("mprace's diagnostic back in clean.go", wait, func() bool {
		return len(c.bySource(clean.uri, "mprace")) == 1
	})
	return racy, clean
}

// TestImporters checks that a change to a package re-analyses the open
// packages that import it: an unsaved edit that makes lib's Get no longer
// read the cell clears the race reported in use, closing the buffer brings
// it back (the file on disk), and the same change made on disk behind the
// editor's back (didChangeWatchedFiles) clears it again.
func TestImporters(t *testing.T) {
	dir := newModule(t, "importers")
	c := startServer(t, dir, "-gopls", "off", "-debounce", "50ms")
	c.initialize(dir)
	use := c.open(filepath.Join(dir, "use", "use.go"))
	c.waitFor("the race through lib's accessors in use.go", wait, func() bool {
		ds := c.bySource(use.uri, "mprace")
		return len(ds) == 1 && ds[0].Range.Start.Line == 7
	})
	lib := c.open(filepath.Join(dir, "lib", "lib.go"))
	c.edit(lib, "return c.n.Load()", "return 7")
	c.waitFor("the race in use.go to go after lib's Get stopped reading the cell", wait, func() bool {
		return len(c.bySource(use.uri, "mprace")) == 0
	})
	c.notify(protocol.MethodTextDocumentDidClose, protocol.DidCloseTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: lib.uri}})
	c.waitFor("the race in use.go back once lib's unsaved buffer is closed", wait, func() bool {
		return len(c.bySource(use.uri, "mprace")) == 1
	})
	write(t, lib.path, strings.Replace(lib.text, "return 7", "return 8", 1))
	c.notify(protocol.MethodWorkspaceDidChangeWatchedFiles, protocol.DidChangeWatchedFilesParams{Changes: []*protocol.FileEvent{{URI: lib.uri, Type: protocol.FileChangeTypeChanged}}})
	c.waitFor("the race in use.go to go after lib.go changed on disk", wait, func() bool {
		return len(c.bySource(use.uri, "mprace")) == 0
	})
	c.shutdown()
}

// TestNoGopls starts `mprace lsp` with no gopls on PATH: the editor is told,
// and mprace's diagnostics still come.
func TestNoGopls(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(goBin), "gopls")); err == nil {
		t.Fatalf("gopls is beside go in %s: cannot make a PATH without it", filepath.Dir(goBin))
	}
	dir := newModule(t, "racy")
	c := startServerEnv(t, dir, []string{"PATH=" + filepath.Dir(goBin)}, "-debounce", "50ms")
	c.initialize(dir)
	c.waitFor("a showMessage that gopls could not be started", wait, func() bool {
		return len(c.messages) == 1 && c.messages[0].Type == protocol.MessageTypeError && strings.Contains(c.messages[0].Message, "gopls")
	})
	racy := c.open(filepath.Join(dir, "racy.go"))
	c.waitFor("mprace's diagnostic in racy.go", wait, func() bool {
		return len(c.bySource(racy.uri, "mprace")) == 1
	})
	c.shutdown()
}
