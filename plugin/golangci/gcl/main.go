// Command golangci-lint is golangci-lint v2 with the mprace module plugin
// compiled in: what `golangci-lint custom` builds, without cloning
// golangci-lint's repository (its packages come from the module proxy, and
// mprace from this checkout through the replace directive in go.mod).
//
//	go build -o bin/golangci-lint-mprace ./plugin/golangci/gcl   (from this directory's module)
//
// scripts/build-golangci-lint.sh builds it; plugin/golangci's tests run it.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"

	// The plugin registers the linter "mprace" in its init.
	_ "github.com/mprace/mprace/plugin/golangci"
)

func main() {
	info := commands.BuildInfo{Version: "unknown", Commit: "mprace custom build", Date: "(unknown)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/golangci/golangci-lint/v2" {
				info.Version = strings.TrimPrefix(dep.Version, "v") + "-custom-mprace"
			}
		}
	}
	if err := commands.Execute(info); err != nil {
		fmt.Fprintf(os.Stderr, "The command is terminated due to an error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}
