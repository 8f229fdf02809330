// Command vetjson turns the output of `go vet -json` (a stream of JSON objects,
// one per package, mixed with "# pkg" lines and plain-text errors) into one
// stable, diffable line per finding: file:line: check: message, with paths
// relative to the root given as the only argument, sorted.
//
// Text that is not a JSON object (build or type-check errors) is copied to
// standard error prefixed by "vet-error: ", so a broken run is not mistaken
// for a clean one. The exit status is 1 when there was such text.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// diagnostic is one entry of go vet's JSON tree:
// {"pkg": {"analyzer": [diagnostic...]}}, or {"pkg": {"analyzer": {"error": "..."}}}.
type diagnostic struct {
	Posn    string `json:"posn"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go vet -json ... 2>&1 | vetjson ROOT")
		os.Exit(2)
	}
	root, err := filepath.Abs(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "vetjson: %v\n", err)
		os.Exit(2)
	}
	in, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintf(os.Stderr, "vetjson: reading standard input: %v\n", err)
		os.Exit(2)
	}
	lines, errs := parse(in, root)
	sort.Strings(lines)
	for _, l := range uniq(lines) {
		fmt.Println(l)
	}
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "vet-error: "+e)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
}

// parse walks the input: JSON objects are decoded where they start, every
// other non-blank line that is not a "# package" header is an error.
func parse(in []byte, root string) (lines, errs []string) {
	for len(in) > 0 {
		in = bytes.TrimLeft(in, " \t\r\n")
		if len(in) == 0 {
			break
		}
		if in[0] == '{' {
			dec := json.NewDecoder(bytes.NewReader(in))
			var tree map[string]map[string]json.RawMessage
			if err := dec.Decode(&tree); err == nil {
				lines, errs = appendTree(lines, errs, tree, root)
				in = in[dec.InputOffset():]
				continue
			}
		}
		line, rest, _ := bytes.Cut(in, []byte("\n"))
		in = rest
		if s := string(line); !strings.HasPrefix(s, "# ") {
			errs = append(errs, s)
		}
	}
	return lines, errs
}

func appendTree(lines, errs []string, tree map[string]map[string]json.RawMessage, root string) ([]string, []string) {
	for pkg, byCheck := range tree {
		for check, raw := range byCheck {
			var diags []diagnostic
			if err := json.Unmarshal(raw, &diags); err != nil {
				var failed struct{ Error string }
				json.Unmarshal(raw, &failed)
				errs = append(errs, fmt.Sprintf("%s: %s: %s", pkg, check, failed.Error))
				continue
			}
			for _, d := range diags {
				lines = append(lines, fmt.Sprintf("%s: %s: %s", position(d.Posn, root), check,
					strings.ReplaceAll(d.Message, root+string(filepath.Separator), "")))
			}
		}
	}
	return lines, errs
}

// position drops the column and makes the file relative to root.
func position(posn, root string) string {
	file, line := posn, ""
	if i := strings.LastIndexByte(posn, ':'); i > 0 {
		if j := strings.LastIndexByte(posn[:i], ':'); j > 0 {
			file, line = posn[:j], posn[j+1:i]
		}
	}
	if rel, err := filepath.Rel(root, file); err == nil && !strings.HasPrefix(rel, "..") {
		file = rel
	}
	return file + ":" + line
}

// uniq drops repeats: a file in a package and its test variant is reported twice.
func uniq(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
