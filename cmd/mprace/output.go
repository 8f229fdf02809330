package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/mprace/mprace/internal/driver"
)

// unique returns results' diagnostics in file order, each once: a file of
// a package and of its test variant is analysed twice.
func unique(results []driver.PackageResult) []driver.Diagnostic {
	var all []driver.Diagnostic
	for _, r := range results {
		all = append(all, r.Diagnostics...)
	}
	slices.SortStableFunc(all, func(a, b driver.Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Posn.Filename, b.Posn.Filename), cmp.Compare(a.Posn.Offset, b.Posn.Offset),
			cmp.Compare(a.Check, b.Check), cmp.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(all, func(a, b driver.Diagnostic) bool {
		return a.Posn == b.Posn && a.Check == b.Check && a.Message == b.Message
	})
}

func findings(results []driver.PackageResult) int { return len(unique(results)) }

func hasErrors(results []driver.PackageResult) bool {
	for _, r := range results {
		if len(r.Errors) > 0 {
			return true
		}
	}
	return false
}

func writeText(w io.Writer, results []driver.PackageResult) {
	for _, d := range unique(results) {
		fmt.Fprintf(w, "%s: %s\n", d.Posn, d.Message)
	}
}

func writeErrors(w io.Writer, results []driver.PackageResult) {
	for _, r := range results {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "mprace: %s: %s\n", r.ID, e)
		}
	}
}

// The JSON output is the go/analysis drivers' (multichecker, go vet -json):
// package ID -> analyzer -> diagnostics, or {"error": ...}.
type jsonEdit struct {
	Filename string `json:"filename"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	New      string `json:"new"`
}

type jsonFix struct {
	Message string     `json:"message"`
	Edits   []jsonEdit `json:"edits"`
}

type jsonRelated struct {
	Posn    string `json:"posn"`
	End     string `json:"end"`
	Message string `json:"message"`
}

type jsonDiagnostic struct {
	Category       string        `json:"category,omitempty"`
	Posn           string        `json:"posn"`
	End            string        `json:"end"`
	Message        string        `json:"message"`
	SuggestedFixes []jsonFix     `json:"suggested_fixes,omitempty"`
	Related        []jsonRelated `json:"related,omitempty"`
}

type jsonError struct {
	Err string `json:"error"`
}

func writeJSON(w io.Writer, results []driver.PackageResult) error {
	tree := make(map[string]map[string]any)
	for _, r := range results {
		if len(r.Errors) > 0 {
			msg := ""
			for i, e := range r.Errors {
				if i > 0 {
					msg += "\n"
				}
				msg += e.Error()
			}
			tree[r.ID] = map[string]any{"mprace": jsonError{msg}}
			continue
		}
		for _, d := range r.Diagnostics {
			jd := jsonDiagnostic{Category: d.Check, Posn: d.Posn.String(), End: d.End.String(), Message: d.Message}
			for _, f := range d.Fixes {
				jf := jsonFix{Message: f.Message}
				for _, e := range f.Edits {
					jf.Edits = append(jf.Edits, jsonEdit{Filename: e.Filename, Start: e.Start, End: e.End, New: string(e.NewText)})
				}
				jd.SuggestedFixes = append(jd.SuggestedFixes, jf)
			}
			for _, rel := range d.Related {
				jd.Related = append(jd.Related, jsonRelated{Posn: rel.Posn.String(), End: rel.End.String(), Message: rel.Message})
			}
			if tree[r.ID] == nil {
				tree[r.ID] = make(map[string]any)
			}
			list, _ := tree[r.ID][d.Check].([]jsonDiagnostic)
			tree[r.ID][d.Check] = append(list, jd)
		}
	}
	data, err := json.MarshalIndent(tree, "", "\t")
	if err != nil {
		return fmt.Errorf("mprace: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
