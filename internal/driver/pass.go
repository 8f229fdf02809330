package driver

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"runtime/debug"
	"slices"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
)

// runAnalyzers runs the analyzers n needs over its checked syntax, filling
// e's facts, and its diagnostics when n is a target. An analyzer's error or
// panic becomes an error of the package (and drops its diagnostics).
func (d *Driver) runAnalyzers(g *graph, n *node, e *entry, depFacts map[string]map[string][]byte, fset *token.FileSet, files []*ast.File, pkg *types.Package, info *types.Info) {
	p := n.pkg
	list := d.factOnly
	if n.target {
		list = d.order
		e.full = true
	}
	var module *analysis.Module
	if p.Module != nil {
		module = &analysis.Module{Path: p.Module.Path, Version: p.Module.Version, GoVersion: p.Module.GoVersion}
	}
	allowed := make(map[string]bool)
	for _, f := range slices.Concat(p.CompiledGoFiles, p.OtherFiles, p.IgnoredFiles, p.EmbedFiles) {
		allowed[f] = true
	}
	readFileChecked := func(name string) ([]byte, error) {
		if !allowed[name] {
			return nil, fmt.Errorf("driver: %s is not a file of package %s", name, p.PkgPath)
		}
		return readFile(name, g.req.Overlay)
	}
	results := make(map[*analysis.Analyzer]any)
	e.facts = make(map[string][]byte)
	for _, a := range list {
		facts := newFactTable(a, pkg, depFacts[a.Name])
		resultOf := make(map[*analysis.Analyzer]any, len(a.Requires))
		for _, r := range a.Requires {
			resultOf[r] = results[r]
		}
		pass := &analysis.Pass{
			Analyzer:          a,
			Fset:              fset,
			Files:             files,
			OtherFiles:        p.OtherFiles,
			IgnoredFiles:      p.IgnoredFiles,
			Pkg:               pkg,
			TypesInfo:         info,
			TypesSizes:        p.TypesSizes,
			Module:            module,
			ResultOf:          resultOf,
			ReadFile:          readFileChecked,
			ImportObjectFact:  facts.importObject,
			ExportObjectFact:  facts.exportObject,
			ImportPackageFact: facts.importPackage,
			ExportPackageFact: facts.exportPackage,
			AllObjectFacts:    facts.allObjects,
			AllPackageFacts:   facts.allPackages,
		}
		pass.Report = func(diag analysis.Diagnostic) {
			if n.target {
				e.diagnostics = append(e.diagnostics, resolve(fset, a.Name, diag))
			}
		}
		res, err := runOne(pass)
		if err == nil && len(a.FactTypes) > 0 {
			e.facts[a.Name], err = facts.encode()
		}
		if err != nil {
			e.errors = append(e.errors, packages.Error{Pos: p.PkgPath, Msg: fmt.Sprintf("analyzer %s: %v", a.Name, err)})
			e.diagnostics = nil
			e.facts = nil
			return
		}
		results[a] = res
	}
}

// runOne runs pass's analyzer, turning a panic into an error.
func runOne(pass *analysis.Pass) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return pass.Analyzer.Run(pass)
}

// depFacts collects, per analyzer, the encoded facts of n's transitive
// dependencies by package path. The caller holds the cache's lock.
func (d *Driver) depFacts(n *node) map[string]map[string][]byte {
	out := make(map[string]map[string][]byte)
	seen := make(map[*node]bool)
	var walk func(m *node)
	walk = func(m *node) {
		for _, dep := range m.deps {
			if seen[dep] {
				continue
			}
			seen[dep] = true
			walk(dep)
			e := d.cache[dep.pkg.ID]
			if e == nil {
				continue
			}
			for name, data := range e.facts {
				if out[name] == nil {
					out[name] = make(map[string][]byte)
				}
				out[name][dep.pkg.PkgPath] = data
			}
		}
	}
	walk(n)
	return out
}

// resolve turns diag's positions into file positions and its fixes into
// byte-offset edits, while the package's file set is still alive.
func resolve(fset *token.FileSet, check string, diag analysis.Diagnostic) Diagnostic {
	out := Diagnostic{Check: check, Message: diag.Message}
	out.Posn, out.End = span(fset, diag.Pos, diag.End)
	for _, r := range diag.Related {
		var rel Related
		rel.Posn, rel.End = span(fset, r.Pos, r.End)
		rel.Message = r.Message
		out.Related = append(out.Related, rel)
	}
	for _, sf := range diag.SuggestedFixes {
		fix := Fix{Message: sf.Message}
		ok := true
		for _, te := range sf.TextEdits {
			tf := fset.File(te.Pos)
			if tf == nil || !inFile(tf, te.Pos) || (te.End.IsValid() && !inFile(tf, te.End)) {
				ok = false
				break
			}
			end := te.End
			if !end.IsValid() {
				end = te.Pos
			}
			fix.Edits = append(fix.Edits, Edit{Filename: tf.Name(), Start: tf.Offset(te.Pos), End: tf.Offset(end), NewText: te.NewText})
		}
		if ok {
			out.Fixes = append(out.Fixes, fix)
		}
	}
	return out
}

func span(fset *token.FileSet, pos, end token.Pos) (token.Position, token.Position) {
	p := fset.Position(pos)
	if !end.IsValid() {
		return p, p
	}
	return p, fset.Position(end)
}

func inFile(tf *token.File, pos token.Pos) bool {
	return tf.Base() <= int(pos) && int(pos) <= tf.Base()+tf.Size()
}
