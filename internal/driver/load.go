package driver

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/tools/go/packages"
)

// A graph is the import graph of one Run: every package the roots need.
type graph struct {
	roots []*node
	nodes []*node
	req   Request
}

type node struct {
	pkg       *packages.Package // metadata only: no syntax or types
	deps      []*node           // direct imports, by import path as written
	importers []*node
	target    bool // matched by the patterns: fully analysed, diagnostics kept
}

// loadMode is metadata only: syntax and types are built here, one package at
// a time, not by go/packages for the whole graph at once.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedDeps | packages.NeedModule | packages.NeedTypesSizes

func (d *Driver) load(ctx context.Context, req Request) (*graph, error) {
	cfg := &packages.Config{
		Context: ctx,
		Mode:    loadMode,
		Dir:     req.Dir,
		Env:     req.Env,
		Tests:   req.Tests,
		Overlay: req.Overlay,
	}
	pkgs, err := packages.Load(cfg, req.Patterns...)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("driver: loading %v: %w", req.Patterns, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("driver: loading %v: %w", req.Patterns, err)
	}
	g := &graph{req: req}
	byID := make(map[string]*node)
	var visit func(p *packages.Package) *node
	visit = func(p *packages.Package) *node {
		if n, ok := byID[p.ID]; ok {
			return n
		}
		n := &node{pkg: p}
		byID[p.ID] = n
		paths := make([]string, 0, len(p.Imports))
		for path := range p.Imports {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		for _, path := range paths {
			dep := visit(p.Imports[path])
			n.deps = append(n.deps, dep)
			dep.importers = append(dep.importers, n)
		}
		g.nodes = append(g.nodes, n)
		return n
	}
	for _, p := range pkgs {
		n := visit(p)
		if !n.target {
			n.target = true
			g.roots = append(g.roots, n)
		}
	}
	return g, nil
}
