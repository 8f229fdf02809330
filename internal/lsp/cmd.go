package lsp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// Main runs `mprace lsp` with the arguments after "lsp" and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mprace lsp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gopls := fs.String("gopls", "", "gopls to relay to: a path, or \"off\" to run alone (default: gopls on PATH; alone, saying so, if none)")
	debounce := fs.Duration("debounce", 200*time.Millisecond, "how long after the last edit of a buffer its package is analysed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mprace lsp [-gopls PATH|off] [-debounce DURATION]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "A language server on stdin and stdout: gopls with mprace's diagnostics and fixes added,")
		fmt.Fprintln(stderr, "or (-gopls off) mprace's alone. Point the editor's gopls command at it.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mprace lsp: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	opts := Options{Debounce: *debounce, Log: stderr}
	switch *gopls {
	case "off":
	case "":
		// Without gopls on PATH, starting it fails, and the editor is told
		// after initialize that only mprace's diagnostics are shown.
		opts.Gopls = "gopls"
		if p, err := exec.LookPath("gopls"); err == nil {
			opts.Gopls = p
		}
	default:
		p, err := exec.LookPath(*gopls)
		if err != nil {
			fmt.Fprintf(stderr, "mprace lsp: -gopls %s: %v\n", *gopls, err)
			return 2
		}
		opts.Gopls = p
	}
	if err := Serve(context.Background(), stdin, stdout, opts); err != nil {
		fmt.Fprintln(stderr, "mprace lsp:", err)
		return 1
	}
	return 0
}
