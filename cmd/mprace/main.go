// Command mprace reports read-modify-write and check-then-act races on shared
// cells: runtime/mp handles and sync/atomic values.
//
// Usage:
//
//	mprace [-json] [-fix] [-diff] packages...   standalone
//	go vet -vettool=$(command -v mprace) packages...
//	mprace help [CHECK]                          list the checks, or document one
//	mprace lsp [-gopls PATH|off]                 language server: gopls plus mprace's diagnostics
package main

import (
	"fmt"
	"os"

	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/lsp"
)

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "help" {
		os.Exit(help(os.Args[2:]))
	}
	if len(os.Args) >= 2 && os.Args[1] == "lsp" {
		os.Exit(lsp.Main(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	multichecker.Main(analyzer.Suite()...)
}

func help(args []string) int {
	if len(args) == 0 {
		fmt.Println("mprace reports races on shared cells (runtime/mp handles, sync/atomic values).")
		fmt.Println()
		fmt.Println("Usage:")
		fmt.Println("  mprace [-json] [-fix] [-diff] packages...")
		fmt.Println("  go vet -vettool=$(command -v mprace) packages...")
		fmt.Println("  mprace help CHECK")
		fmt.Println()
		fmt.Println("Checks:")
		for _, c := range analyzer.Checks {
			fmt.Printf("  %-16s %s\n", c.Name(), c.Title)
		}
		fmt.Println()
		fmt.Println("Run 'mprace help flags' for the flags.")
		return 0
	}
	if args[0] == "flags" {
		// The driver's own help lists the analyzers and every core flag.
		os.Args = []string{os.Args[0], "help"}
		multichecker.Main(analyzer.Suite()...)
		return 0
	}
	status := 0
	for _, name := range args {
		c, ok := analyzer.Lookup(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "mprace: no check named %q; 'mprace help' lists them\n", name)
			status = 2
			continue
		}
		fmt.Print(c.Doc())
	}
	return status
}
