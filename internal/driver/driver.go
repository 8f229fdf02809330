// Package driver runs go/analysis analyzers one package at a time, in
// dependency order, keeping between packages only what dependents need: each
// package's export data (its types, as go/gcexportdata writes them) and its
// analysis facts, both as bytes. A package's syntax, type information and SSA
// are dropped as soon as it is analysed, so memory is bounded by the largest
// packages in flight, not by the whole program.
//
// Results are cached by content: a package's key hashes its files' contents
// (overlays included), the analyzer set and, for each import, the hash of the
// export data and facts that import produced. A later Run re-analyses a
// package only when its key changed, so an edited package is re-analysed, and
// its importers are re-analysed when what it exports (types or facts)
// changed.
//
// The standalone mprace command and `mprace lsp` share this package.
package driver

import (
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"go/token"
	"reflect"
	"runtime"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
)

// ErrNoPackages is returned by Run when the patterns match no package.
var ErrNoPackages = errors.New("driver: no packages matched")

// Driver analyses packages with a fixed set of analyzers and caches, per
// package, what later runs can reuse. A Driver is safe for one Run at a time;
// concurrent Runs are serialised.
type Driver struct {
	analyzers []*analysis.Analyzer // requested, as given
	order     []*analysis.Analyzer // every analyzer needed, requirements first
	factOnly  []*analysis.Analyzer // the analyzers dependencies need: those with facts, and their requirements
	suiteKey  [sha256.Size]byte

	mu    sync.Mutex
	cache map[string]*entry // by package ID
	files *fileCache

	last Stats
	memo *graphMemo // the last Reuse Run's import graph

	// Parallel is the number of packages analysed at once (default
	// GOMAXPROCS). Each package in flight holds its syntax, types and SSA.
	Parallel int
}

// Request says what to analyse.
type Request struct {
	Dir      string   // working directory (module root or below)
	Patterns []string // go/packages patterns, or "file=/abs/path.go" for a file's package
	Tests    bool     // include test packages
	Overlay  map[string][]byte
	Env      []string // environment of the go command; nil: the process's
	// Reuse lets the Run reuse the previous Run's import graph when nothing
	// it was built from changed (see reuse.go): for editors, which run again
	// and again on the same packages.
	Reuse bool
}

// Edit replaces the bytes [Start, End) of Filename, as analysed (overlay
// contents where given), with NewText.
type Edit struct {
	Filename   string
	Start, End int
	NewText    []byte
}

// Fix is one suggested fix: edits to apply together.
type Fix struct {
	Message string
	Edits   []Edit
}

// Related is a secondary position of a diagnostic (for mprace, the read).
type Related struct {
	Posn, End token.Position
	Message   string
}

// Diagnostic is one finding, with resolved positions (Filename absolute,
// Line and Column 1-based, Column and Offset in bytes).
type Diagnostic struct {
	Check     string // the analyzer's name
	Posn, End token.Position
	Message   string
	Related   []Related
	Fixes     []Fix
}

// PackageResult is the outcome for one package matched by the patterns.
type PackageResult struct {
	ID, PkgPath string
	Files       []string // compiled Go files, absolute
	// Errors are load, parse and type errors. A package with errors is not
	// analysed: it has no Diagnostics.
	Errors      []packages.Error
	Diagnostics []Diagnostic
}

// New returns a Driver for analyzers, which must pass analysis.Validate.
func New(analyzers []*analysis.Analyzer) (*Driver, error) {
	if err := analysis.Validate(analyzers); err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	d := &Driver{
		analyzers: analyzers,
		cache:     make(map[string]*entry),
		files:     newFileCache(),
	}
	seen := make(map[*analysis.Analyzer]bool)
	var visit func(a *analysis.Analyzer)
	visit = func(a *analysis.Analyzer) {
		if seen[a] {
			return
		}
		seen[a] = true
		for _, r := range a.Requires {
			visit(r)
		}
		d.order = append(d.order, a)
	}
	for _, a := range analyzers {
		visit(a)
	}
	needed := make(map[*analysis.Analyzer]bool)
	var need func(a *analysis.Analyzer)
	need = func(a *analysis.Analyzer) {
		if needed[a] {
			return
		}
		needed[a] = true
		for _, r := range a.Requires {
			need(r)
		}
	}
	h := sha256.New()
	for _, a := range d.order {
		if len(a.FactTypes) > 0 {
			need(a)
		}
		for _, f := range a.FactTypes {
			// Facts travel between packages as gob; registering is idempotent.
			gob.Register(f)
		}
		fmt.Fprintf(h, "%s %s\n", a.Name, reflect.TypeOf(a.Run))
	}
	for _, a := range d.order {
		if needed[a] {
			d.factOnly = append(d.factOnly, a)
		}
	}
	h.Sum(d.suiteKey[:0])
	return d, nil
}

// Run analyses the packages matching req.Patterns and returns their results,
// in the order go/packages lists them. Their dependencies are analysed on the
// way (only by the analyzers that produce facts) unless cached.
func (d *Driver) Run(ctx context.Context, req Request) ([]PackageResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, reused, err := d.graphFor(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(g.roots) == 0 {
		return nil, ErrNoPackages
	}
	d.last = Stats{Packages: len(g.nodes), Reused: reused}
	if err := d.analyseAll(ctx, g); err != nil {
		return nil, err
	}
	if reused && d.anyErrors(g) {
		d.memo = nil
		if g, _, err = d.graphFor(ctx, req); err != nil {
			return nil, err
		}
		if len(g.roots) == 0 {
			return nil, ErrNoPackages
		}
		d.last = Stats{Packages: len(g.nodes)}
		if err := d.analyseAll(ctx, g); err != nil {
			return nil, err
		}
	}
	out := make([]PackageResult, 0, len(g.roots))
	for _, n := range g.roots {
		e := d.cache[n.pkg.ID]
		r := PackageResult{ID: n.pkg.ID, PkgPath: n.pkg.PkgPath, Files: n.pkg.CompiledGoFiles}
		if e != nil {
			r.Errors = e.errors
			r.Diagnostics = e.diagnostics
		}
		out = append(out, r)
	}
	return out, nil
}

// Stats counts what the last Run did.
type Stats struct {
	Packages int  // in the import graph
	Analysed int  // type-checked and analysed (the others came from the cache)
	Reused   bool // the import graph was the previous Run's (Request.Reuse)
}

// LastStats returns what the last Run did.
func (d *Driver) LastStats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// Forget drops every cached result (the next Run analyses from scratch).
func (d *Driver) Forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cache = make(map[string]*entry)
	d.files = newFileCache()
}

// analyseAll analyses the graph's packages bottom-up, d.Parallel at a time.
func (d *Driver) analyseAll(ctx context.Context, g *graph) error {
	par := d.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	pending := make(map[*node]int, len(g.nodes))
	var ready []*node
	for _, n := range g.nodes {
		pending[n] = len(n.deps)
		if len(n.deps) == 0 {
			ready = append(ready, n)
		}
	}
	done := make(chan *node)
	work := make(chan *node)
	var wg sync.WaitGroup
	var cacheMu sync.Mutex
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				d.analyse(g, n, &cacheMu)
				done <- n
			}
		}()
	}
	inFlight := 0
	var ctxErr error
	cancelled := ctx.Done()
	for {
		var send chan *node
		var next *node
		if ctxErr == nil && len(ready) > 0 {
			next, send = ready[len(ready)-1], work
		}
		if send == nil && inFlight == 0 {
			break // finished, or cancelled and drained
		}
		select {
		case send <- next:
			ready = ready[:len(ready)-1]
			inFlight++
		case n := <-done:
			inFlight--
			for _, up := range n.importers {
				pending[up]--
				if pending[up] == 0 {
					ready = append(ready, up)
				}
			}
		case <-cancelled:
			ctxErr, cancelled = ctx.Err(), nil
		}
	}
	close(work)
	wg.Wait()
	if ctxErr != nil {
		return fmt.Errorf("driver: %w", ctxErr)
	}
	return nil
}
