package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/mprace/mprace/internal/driver"
)

// applyFixes takes the first suggested fix of each finding, skipping a fix
// whose edits overlap one already taken, and writes the fixed files (write)
// or prints them as a unified diff. It lists the findings left unfixed and
// returns exitFindings when there are any, or, for a diff, when there are
// findings at all (a diff changes nothing).
func applyFixes(results []driver.PackageResult, write bool, stdout, stderr io.Writer) int {
	diags := unique(results)
	edits := make(map[string][]driver.Edit) // by file, accepted
	var unfixed []driver.Diagnostic
	fixed := 0
	for _, d := range diags {
		if len(d.Fixes) == 0 || !accept(edits, d.Fixes[0].Edits) {
			unfixed = append(unfixed, d)
			continue
		}
		fixed++
	}
	files := slices.Sorted(func(yield func(string) bool) {
		for f := range edits {
			if !yield(f) {
				return
			}
		}
	})
	for _, name := range files {
		old, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "mprace: %v\n", err)
			return exitErrors
		}
		fixedSrc, err := apply(old, edits[name])
		if err != nil {
			fmt.Fprintf(stderr, "mprace: %s: %v\n", name, err)
			return exitErrors
		}
		if !write {
			fmt.Fprint(stdout, udiff.Unified(name, name, string(old), string(fixedSrc)))
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			fmt.Fprintf(stderr, "mprace: %v\n", err)
			return exitErrors
		}
		if err := os.WriteFile(name, fixedSrc, fi.Mode().Perm()); err != nil {
			fmt.Fprintf(stderr, "mprace: %v\n", err)
			return exitErrors
		}
	}
	if write {
		fmt.Fprintf(stderr, "mprace: fixed %d of %d findings in %d files\n", fixed, len(diags), len(files))
	} else if fixed > 0 {
		fmt.Fprintf(stderr, "mprace: the diff fixes %d of %d findings; no file was changed\n", fixed, len(diags))
	}
	if len(unfixed) > 0 {
		fmt.Fprintf(stderr, "mprace: %d findings have no suggested fix to apply:\n", len(unfixed))
		for _, d := range unfixed {
			fmt.Fprintf(stderr, "%s: %s\n", d.Posn, d.Message)
		}
	}
	if len(unfixed) > 0 || (!write && len(diags) > 0) {
		return exitFindings
	}
	return exitClean
}

// accept adds fix to edits unless one of its edits overlaps an accepted
// edit of the same file (identical edits, from a package and its test
// variant, are taken once).
func accept(edits map[string][]driver.Edit, fix []driver.Edit) bool {
	var add []driver.Edit
	for _, e := range fix {
		dup := false
		for _, a := range edits[e.Filename] {
			if a.Start == e.Start && a.End == e.End && bytes.Equal(a.NewText, e.NewText) {
				dup = true
				break
			}
			if e.Start < a.End && a.Start < e.End || (e.Start == a.Start && (e.Start == e.End || a.Start == a.End)) {
				return false
			}
		}
		if !dup {
			add = append(add, e)
		}
	}
	for _, e := range add {
		edits[e.Filename] = append(edits[e.Filename], e)
	}
	return true
}

// apply applies non-overlapping edits to src.
func apply(src []byte, edits []driver.Edit) ([]byte, error) {
	edits = slices.Clone(edits)
	slices.SortFunc(edits, func(a, b driver.Edit) int { return cmp.Compare(a.Start, b.Start) })
	var out bytes.Buffer
	last := 0
	for _, e := range edits {
		if e.Start < last || e.End > len(src) || e.Start > e.End {
			return nil, fmt.Errorf("edit [%d,%d) does not fit the file (changed since it was analysed?)", e.Start, e.End)
		}
		out.Write(src[last:e.Start])
		out.Write(e.NewText)
		last = e.End
	}
	out.Write(src[last:])
	return out.Bytes(), nil
}
