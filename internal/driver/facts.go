package driver

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"go/types"
	"reflect"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/objectpath"
)

// A fact crosses packages as its object's path within its package (empty
// for a package fact) and the fact itself, gob-encoded. Objects that have no
// path (local objects) cannot be named from another package: their facts
// stay in their own package, as with go vet.
type gobFact struct {
	Object objectpath.Path
	Fact   analysis.Fact
}

type objFactKey struct {
	obj types.Object
	typ reflect.Type
}

type pkgFactKey struct {
	pkg *types.Package
	typ reflect.Type
}

// factTable holds the facts one analyzer sees while analysing one package:
// the package's own, and its dependencies' decoded on first use.
type factTable struct {
	analyzer *analysis.Analyzer
	pkg      *types.Package
	// deps gives, for the package path of each transitive dependency, its
	// facts from this analyzer as encoded.
	deps   map[string][]byte
	loaded map[string]bool
	objs   map[objFactKey]analysis.Fact
	pkgs   map[pkgFactKey]analysis.Fact
}

func newFactTable(a *analysis.Analyzer, pkg *types.Package, deps map[string][]byte) *factTable {
	return &factTable{
		analyzer: a,
		pkg:      pkg,
		deps:     deps,
		loaded:   make(map[string]bool),
		objs:     make(map[objFactKey]analysis.Fact),
		pkgs:     make(map[pkgFactKey]analysis.Fact),
	}
}

// load decodes the facts of pkg, a dependency as this package's types see
// it, once.
func (t *factTable) load(pkg *types.Package) error {
	if pkg == nil || pkg == t.pkg || t.loaded[pkg.Path()] {
		return nil
	}
	t.loaded[pkg.Path()] = true
	data := t.deps[pkg.Path()]
	if len(data) == 0 {
		return nil
	}
	var facts []gobFact
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&facts); err != nil {
		return fmt.Errorf("driver: decoding %s facts of %s: %w", t.analyzer.Name, pkg.Path(), err)
	}
	for _, f := range facts {
		typ := reflect.TypeOf(f.Fact)
		if f.Object == "" {
			t.pkgs[pkgFactKey{pkg, typ}] = f.Fact
			continue
		}
		// An object the export data left out cannot be referred to here.
		if obj, err := objectpath.Object(pkg, f.Object); err == nil {
			t.objs[objFactKey{obj, typ}] = f.Fact
		}
	}
	return nil
}

func (t *factTable) importObject(obj types.Object, ptr analysis.Fact) bool {
	if obj == nil {
		return false
	}
	if err := t.load(obj.Pkg()); err != nil {
		panic(err)
	}
	f, ok := t.objs[objFactKey{obj, reflect.TypeOf(ptr)}]
	if ok {
		reflect.ValueOf(ptr).Elem().Set(reflect.ValueOf(f).Elem())
	}
	return ok
}

func (t *factTable) exportObject(obj types.Object, f analysis.Fact) {
	if obj.Pkg() != t.pkg {
		panic(fmt.Sprintf("driver: %s exported a fact for %s, an object of another package", t.analyzer.Name, obj))
	}
	t.objs[objFactKey{obj, reflect.TypeOf(f)}] = f
}

func (t *factTable) importPackage(pkg *types.Package, ptr analysis.Fact) bool {
	if err := t.load(pkg); err != nil {
		panic(err)
	}
	f, ok := t.pkgs[pkgFactKey{pkg, reflect.TypeOf(ptr)}]
	if ok {
		reflect.ValueOf(ptr).Elem().Set(reflect.ValueOf(f).Elem())
	}
	return ok
}

func (t *factTable) exportPackage(f analysis.Fact) {
	t.pkgs[pkgFactKey{t.pkg, reflect.TypeOf(f)}] = f
}

// loadAll decodes the facts of every dependency the package's types know.
func (t *factTable) loadAll() {
	seen := make(map[*types.Package]bool)
	var walk func(p *types.Package)
	walk = func(p *types.Package) {
		if seen[p] {
			return
		}
		seen[p] = true
		if err := t.load(p); err != nil {
			panic(err)
		}
		for _, q := range p.Imports() {
			walk(q)
		}
	}
	walk(t.pkg)
}

func (t *factTable) allObjects() []analysis.ObjectFact {
	t.loadAll()
	var out []analysis.ObjectFact
	for k, f := range t.objs {
		out = append(out, analysis.ObjectFact{Object: k.obj, Fact: f})
	}
	return out
}

func (t *factTable) allPackages() []analysis.PackageFact {
	t.loadAll()
	var out []analysis.PackageFact
	for k, f := range t.pkgs {
		out = append(out, analysis.PackageFact{Package: k.pkg, Fact: f})
	}
	return out
}

// encode returns the package's own facts, in a stable order so that equal
// facts give equal bytes (importers' keys depend on them).
func (t *factTable) encode() ([]byte, error) {
	var facts []gobFact
	for k, f := range t.objs {
		if k.obj.Pkg() != t.pkg {
			continue
		}
		p, err := objectpath.For(k.obj)
		if err != nil {
			continue
		}
		facts = append(facts, gobFact{Object: p, Fact: f})
	}
	for k, f := range t.pkgs {
		if k.pkg == t.pkg {
			facts = append(facts, gobFact{Fact: f})
		}
	}
	if len(facts) == 0 {
		return nil, nil
	}
	sort.Slice(facts, func(i, j int) bool {
		if facts[i].Object != facts[j].Object {
			return facts[i].Object < facts[j].Object
		}
		return reflect.TypeOf(facts[i].Fact).String() < reflect.TypeOf(facts[j].Fact).String()
	})
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(facts); err != nil {
		return nil, fmt.Errorf("driver: encoding %s facts: %w", t.analyzer.Name, err)
	}
	return buf.Bytes(), nil
}
