package driver

import (
	"context"
	"crypto/sha256"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Reusing the import graph (Request.Reuse). Listing the packages (go list)
// costs more than analysing one edited package once its dependencies are
// cached, so an editor's Run reuses the previous Run's graph while nothing it
// was built from has changed: the request itself, the header (build
// constraints, package clause, imports) of every overlaid file, and the
// modification times of the go.mod, go.sum, go.work and go.work.sum files
// above Dir and of every package's directory (a file added or removed). An
// import changed on disk behind the editor's back shows up as package errors:
// a Run on a reused graph that meets any is done again on a fresh one.
type graphMemo struct {
	key    [sha256.Size]byte
	stamps map[string]time.Time // path → modification time (zero: absent)
	g      *graph
}

// graphFor returns the import graph for req: the memo's when req allows and
// it is current, else a fresh one (remembered for the next Run).
func (d *Driver) graphFor(ctx context.Context, req Request) (g *graph, reused bool, err error) {
	key := requestKey(req)
	if m := d.memo; req.Reuse && m != nil && m.key == key && stampsCurrent(m.stamps) {
		return &graph{roots: m.g.roots, nodes: m.g.nodes, req: req}, true, nil
	}
	g, err = d.load(ctx, req)
	if err != nil {
		return nil, false, err
	}
	d.memo = nil
	if req.Reuse {
		d.memo = &graphMemo{key: key, stamps: graphStamps(req.Dir, g), g: g}
	}
	return g, false, nil
}

// requestKey hashes the request and its overlaid files' headers.
func requestKey(req Request) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %v %q\n", req.Dir, req.Patterns, req.Tests, req.Env)
	names := make([]string, 0, len(req.Overlay))
	for name := range req.Overlay {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(h, "%q\n", name)
		h.Write(header(name, req.Overlay[name]))
		h.Write([]byte{0})
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// header returns what of a Go file decides which package it is in and what
// it imports: everything up to the end of its imports (all of it when that
// does not parse).
func header(name string, src []byte) []byte {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil || f == nil {
		return src
	}
	end := f.Name.End()
	for _, d := range f.Decls {
		end = max(end, d.End())
	}
	off := int(end) - int(f.FileStart)
	if off < 0 || off > len(src) {
		return src
	}
	return src[:off]
}

// graphStamps records the modification times the graph depends on.
func graphStamps(dir string, g *graph) map[string]time.Time {
	stamps := map[string]time.Time{}
	for d := dir; ; d = filepath.Dir(d) {
		for _, name := range []string{"go.mod", "go.sum", "go.work", "go.work.sum"} {
			stamps[filepath.Join(d, name)] = time.Time{}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	for _, n := range g.nodes {
		for _, files := range [][]string{n.pkg.GoFiles, n.pkg.CompiledGoFiles, n.pkg.OtherFiles, n.pkg.IgnoredFiles} {
			for _, f := range files {
				stamps[filepath.Dir(f)] = time.Time{}
			}
		}
	}
	for p := range stamps {
		stamps[p] = modTime(p)
	}
	return stamps
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func stampsCurrent(stamps map[string]time.Time) bool {
	for p, t := range stamps {
		if !modTime(p).Equal(t) {
			return false
		}
	}
	return true
}

// anyErrors reports whether a package of g has errors after its analysis.
func (d *Driver) anyErrors(g *graph) bool {
	for _, n := range g.nodes {
		if e := d.cache[n.pkg.ID]; e != nil && len(e.errors) > 0 {
			return true
		}
	}
	return false
}
