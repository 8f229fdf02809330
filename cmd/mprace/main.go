// Command mprace reports read-modify-write and check-then-act races on shared
// cells: runtime/mp handles and sync/atomic values.
//
// Usage:
//
//	mprace [flags] packages...                   standalone
//	go vet -vettool=$(command -v mprace) packages...
//	mprace help [CHECK|flags]                    the checks, one check's documentation, or the flags
//	mprace lsp [-gopls PATH|off]                 language server: gopls plus mprace's diagnostics
//
// Standalone, mprace analyses one package at a time in dependency order (see
// internal/driver): memory is bounded by the largest packages, not the whole
// program. Exit status: 0 no findings, 3 findings (with -fix: findings it
// could not fix), 1 packages that could not be analysed, 2 bad usage; the
// same with -json, -sarif and -diff.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/tools/go/analysis/unitchecker"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/driver"
	"github.com/mprace/mprace/internal/lsp"
	"github.com/mprace/mprace/internal/sarif"
)

// Exit statuses.
const (
	exitClean    = 0
	exitErrors   = 1
	exitUsage    = 2
	exitFindings = 3
)

type options struct {
	json, sarif, fix, diff, tests bool
}

func main() {
	if vetMode(os.Args[1:]) {
		// go vet runs the tool once per package with a config file.
		unitchecker.Main(analyzer.Suite()...)
	}
	if len(os.Args) >= 2 && os.Args[1] == "lsp" {
		os.Exit(lsp.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// vetMode reports whether go vet is running us: it asks for -V=full and
// -flags, then passes one .cfg file.
func vetMode(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-V") || a == "-flags" {
			return true
		}
	}
	return len(args) > 0 && strings.HasSuffix(args[len(args)-1], ".cfg")
}

func flags(opts *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mprace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opts.json, "json", false, "print findings as JSON (the go/analysis drivers' format) on stdout")
	fs.BoolVar(&opts.sarif, "sarif", false, "print findings as one SARIF 2.1.0 log on stdout, for code scanning")
	fs.BoolVar(&opts.fix, "fix", false, "apply the suggested fixes to the files; list the findings left unfixed")
	fs.BoolVar(&opts.diff, "diff", false, "print the suggested fixes as a unified diff; change no file")
	fs.BoolVar(&opts.tests, "test", true, "also analyse test files")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mprace [flags] packages...")
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(fs.Output(), "\nExit status: 0 no findings; 3 findings (with -fix: findings left unfixed);")
		fmt.Fprintln(fs.Output(), "1 packages that could not be analysed; 2 bad usage. The same with -json, -sarif and -diff.")
	}
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "help" {
		return help(args[1:], stdout, stderr)
	}
	var opts options
	fs := flags(&opts, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitClean
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	if n := countTrue(opts.json, opts.sarif, opts.fix || opts.diff); n > 1 {
		fmt.Fprintln(stderr, "mprace: -json, -sarif and -fix/-diff are exclusive: choose one output")
		return exitUsage
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "mprace: %v\n", err)
		return exitErrors
	}
	d, err := driver.New(analyzer.Suite())
	if err != nil {
		fmt.Fprintf(stderr, "mprace: %v\n", err)
		return exitErrors
	}
	results, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: fs.Args(), Tests: opts.tests})
	if err != nil {
		fmt.Fprintf(stderr, "mprace: %v\n", err)
		return exitErrors
	}
	status := exitClean
	if findings(results) > 0 {
		status = exitFindings
	}
	switch {
	case opts.json:
		if err := writeJSON(stdout, results); err != nil {
			fmt.Fprintf(stderr, "mprace: %v\n", err)
			return exitErrors
		}
	case opts.sarif:
		if err := sarif.Write(stdout, results, dir); err != nil {
			fmt.Fprintf(stderr, "mprace: %v\n", err)
			return exitErrors
		}
	case opts.fix || opts.diff:
		status = applyFixes(results, !opts.diff, stdout, stderr)
	default:
		writeText(stderr, results)
	}
	if hasErrors(results) {
		if !opts.json && !opts.sarif {
			writeErrors(stderr, results)
		}
		return exitErrors
	}
	return status
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stdout, "mprace reports races on shared cells (runtime/mp handles, sync/atomic values).")
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Usage:")
		fmt.Fprintln(stdout, "  mprace [-json | -sarif | -fix | -diff] [-test=false] packages...")
		fmt.Fprintln(stdout, "  go vet -vettool=$(command -v mprace) packages...")
		fmt.Fprintln(stdout, "  mprace help CHECK")
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Checks:")
		for _, c := range analyzer.Checks {
			fmt.Fprintf(stdout, "  %-16s %s\n", c.Name(), c.Title)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Run 'mprace help flags' for the flags.")
		return exitClean
	}
	if args[0] == "flags" {
		var opts options
		fs := flags(&opts, stdout)
		fs.Usage()
		return exitClean
	}
	status := exitClean
	for _, name := range args {
		c, ok := analyzer.Lookup(name)
		if !ok {
			fmt.Fprintf(stderr, "mprace: no check named %q; 'mprace help' lists them\n", name)
			status = exitUsage
			continue
		}
		fmt.Fprint(stdout, c.Doc())
	}
	return status
}
