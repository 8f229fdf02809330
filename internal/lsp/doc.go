// Package lsp is `mprace lsp`, a language server that shows mprace's
// findings in an editor.
//
// By default it stands between the editor and gopls: it starts gopls as its
// child and relays every message both ways untouched, except that
//
//   - gopls's textDocument/publishDiagnostics for a file goes out at once with
//     mprace's current findings for that file appended, and mprace's findings
//     go out with gopls's last diagnostics for the file, so neither side's
//     publication erases the other's;
//   - mprace's suggested fixes are appended as quickfix code actions to
//     gopls's textDocument/codeAction answers;
//   - when gopls exits unexpectedly, the editor is told (window/showMessage),
//     requests gopls owed are answered, and gopls is restarted with the
//     editor's initialize parameters and open buffers (a few times a minute at
//     most; then the server carries on alone).
//
// Alone (-gopls off) it answers initialize, shutdown and code actions itself
// and publishes only mprace's diagnostics.
//
// Analysis runs in this process through internal/driver, which keeps every
// package's facts: a file's package is analysed with the editor's unsaved
// buffers as overlays when the file is opened or saved, and a short while
// after the last change to it, and open packages that import it are
// analysed again with it.
//
// The session (session.go) owns all state under one lock; each protocol
// method has its own handler (editor.go for the editor's messages, gopls.go
// for gopls's). Sends never block: each peer has its own writer goroutine.
package lsp
