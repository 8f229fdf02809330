package driver

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"sort"
	"sync"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// entry is what the cache keeps of one package between packages and runs.
type entry struct {
	key [sha256.Size]byte // of the inputs
	// out hashes what importers see (export data and facts): their keys
	// include it, so an edit that changes neither spares them.
	out    [sha256.Size]byte
	export []byte            // gcexportdata; nil when type-checking failed outright
	facts  map[string][]byte // by analyzer name, gob of []gobFact
	full   bool              // every analyzer ran: diagnostics are complete
	errors []packages.Error
	// diagnostics are kept only for packages that were targets.
	diagnostics []Diagnostic
}

// analyse brings n's cache entry up to date.
func (d *Driver) analyse(g *graph, n *node, cacheMu *sync.Mutex) {
	key := d.key(g, n, cacheMu)
	cacheMu.Lock()
	old := d.cache[n.pkg.ID]
	cacheMu.Unlock()
	if old != nil && old.key == key && (old.full || !n.target) {
		return
	}
	e := d.check(g, n, cacheMu)
	e.key = key
	h := sha256.New()
	h.Write(e.export)
	for _, a := range d.order {
		fmt.Fprintf(h, "\x00%s\x00", a.Name)
		h.Write(e.facts[a.Name])
	}
	h.Sum(e.out[:0])
	cacheMu.Lock()
	d.cache[n.pkg.ID] = e
	d.last.Analysed++
	cacheMu.Unlock()
}

// key hashes everything n's analysis depends on.
func (d *Driver) key(g *graph, n *node, cacheMu *sync.Mutex) [sha256.Size]byte {
	p := n.pkg
	h := sha256.New()
	h.Write(d.suiteKey[:])
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%v\n", p.ID, p.PkgPath, p.Name, p.TypesSizes)
	if p.Module != nil {
		fmt.Fprintf(h, "module %s %s\n", p.Module.Path, p.Module.GoVersion)
	}
	for _, e := range p.Errors {
		fmt.Fprintf(h, "error %s\n", e)
	}
	for _, f := range p.CompiledGoFiles {
		sum, err := d.files.hash(f, g.req.Overlay)
		fmt.Fprintf(h, "file %s %x %v\n", f, sum, err)
	}
	paths := make([]string, 0, len(p.Imports))
	for path := range p.Imports {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	cacheMu.Lock()
	for _, path := range paths {
		dep := p.Imports[path]
		var out [sha256.Size]byte
		if e := d.cache[dep.ID]; e != nil {
			out = e.out
		}
		fmt.Fprintf(h, "import %s %s %x\n", path, dep.ID, out)
	}
	cacheMu.Unlock()
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// check parses and type-checks n from source against its imports' export
// data, then runs the analyzers (all for a target, else those whose facts
// importers need) unless the package has errors.
func (d *Driver) check(g *graph, n *node, cacheMu *sync.Mutex) *entry {
	p := n.pkg
	e := &entry{errors: append([]packages.Error(nil), p.Errors...)}
	if p.PkgPath == "unsafe" {
		e.full = true
		return e
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range p.CompiledGoFiles {
		src, err := readFile(name, g.req.Overlay)
		if err != nil {
			e.errors = append(e.errors, packages.Error{Pos: name, Msg: err.Error(), Kind: packages.ListError})
			continue
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			e.errors = append(e.errors, parseErrors(err)...)
		}
		if f != nil {
			files = append(files, f)
		}
	}
	cacheMu.Lock()
	imported := make(map[string]*entry, len(p.Imports))
	for path, dep := range p.Imports {
		imported[path] = d.cache[dep.ID]
	}
	depFacts := d.depFacts(n)
	cacheMu.Unlock()
	imports := make(map[string]*types.Package)
	info := &types.Info{
		Types:        make(map[ast.Expr]types.TypeAndValue),
		Instances:    make(map[*ast.Ident]types.Instance),
		Defs:         make(map[*ast.Ident]types.Object),
		Uses:         make(map[*ast.Ident]types.Object),
		Implicits:    make(map[ast.Node]types.Object),
		Selections:   make(map[*ast.SelectorExpr]*types.Selection),
		Scopes:       make(map[ast.Node]*types.Scope),
		FileVersions: make(map[*ast.File]string),
	}
	conf := &types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			dep, ok := p.Imports[path]
			if !ok {
				return nil, fmt.Errorf("no package for import %q", path)
			}
			if dep.PkgPath == "unsafe" {
				return types.Unsafe, nil
			}
			if pkg := imports[dep.PkgPath]; pkg != nil && pkg.Complete() {
				return pkg, nil
			}
			ie := imported[path]
			if ie == nil || ie.export == nil {
				return nil, fmt.Errorf("could not import %s: it does not type-check", dep.PkgPath)
			}
			return gcexportdata.Read(bytes.NewReader(ie.export), fset, imports, dep.PkgPath)
		}),
		Sizes: p.TypesSizes,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				e.errors = append(e.errors, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
			} else {
				e.errors = append(e.errors, packages.Error{Msg: err.Error(), Kind: packages.TypeError})
			}
		},
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	pkg, _ := conf.Check(p.PkgPath, fset, files, info)
	if pkg != nil {
		e.export = exportData(fset, pkg)
	}
	if len(e.errors) > 0 {
		return e
	}
	d.runAnalyzers(g, n, e, depFacts, fset, files, pkg, info)
	return e
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// exportData writes pkg's export data; nil if the exporter rejects it (a
// package with type errors can hold types it cannot write).
func exportData(fset *token.FileSet, pkg *types.Package) (data []byte) {
	defer func() {
		if recover() != nil {
			data = nil
		}
	}()
	var buf bytes.Buffer
	if err := gcexportdata.Write(&buf, fset, pkg); err != nil {
		return nil
	}
	return buf.Bytes()
}

func parseErrors(err error) []packages.Error {
	list, ok := err.(scanner.ErrorList)
	if !ok {
		return []packages.Error{{Msg: err.Error(), Kind: packages.ParseError}}
	}
	out := make([]packages.Error, 0, len(list))
	for _, e := range list {
		out = append(out, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
	}
	return out
}
