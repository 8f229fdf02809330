package mpmain

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/mprace/mprace/passes/internal/mpcall"
	"github.com/mprace/mprace/passes/internal/report"
)

// Analyzer reports programs whose workers cannot start; see the package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "mpmain",
	Doc:      "report programs that start runtime/mp workers without calling mp.Main first, and mp.NewFunc outside package-level initialisers",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/mpmain",
	Run:      run,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
}

// program is what one package does with workers.
type program struct {
	pass  *analysis.Pass
	rep   *report.Reporter
	funcs map[*types.Func]*ast.FuncDecl // top-level functions of the package
	// forMain is why main needs mp.Main: the first registration or start
	// of a worker. forTests is why TestMain does: a worker started, or
	// registered by the tests or the package they test. "" when none.
	forMain, forTests string
}

func run(pass *analysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	p := &program{pass: pass, rep: report.New(pass), funcs: make(map[*types.Func]*ast.FuncDecl)}
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		d := n.(*ast.FuncDecl)
		if fn, ok := pass.TypesInfo.Defs[d.Name].(*types.Func); ok && d.Body != nil {
			p.funcs[fn] = d
		}
	})
	wrappers := p.wrappers()
	insp.WithStack([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node, push bool, stack []ast.Node) bool {
		if !push {
			return true
		}
		call := n.(*ast.CallExpr)
		switch {
		case mpcall.Func(pass.TypesInfo, call) == "NewFunc":
			why := "registers a worker with mp.NewFunc at " + p.where(call)
			first(&p.forMain, why)
			if p.inTestFile(call) {
				first(&p.forTests, why)
			}
			p.checkPlacement(call, "mp.NewFunc", stack)
		case wrappers[calleeFunc(pass.TypesInfo, call)]:
			p.checkPlacement(call, calleeFunc(pass.TypesInfo, call).Name(), stack)
		default:
			if t, m := mpcall.Method(pass.TypesInfo, call); t == "Func" && m == "Start" {
				why := "starts a worker at " + p.where(call)
				first(&p.forMain, why)
				first(&p.forTests, why)
			}
		}
		return true
	})
	if p.forTests == "" {
		p.registeredByTested()
	}
	testVariant := false
	for _, f := range pass.Files {
		if p.inTestFile(f) {
			testVariant = true
		}
	}
	for fn, d := range p.funcs {
		if fn.Signature().Recv() != nil {
			continue
		}
		switch {
		case fn.Name() == "main" && pass.Pkg.Name() == "main" && !testVariant && p.forMain != "":
			p.checkMain(d, p.forMain)
		case fn.Name() == "TestMain" && p.inTestFile(d) && p.forTests != "":
			p.checkMain(d, p.forTests)
		}
	}
	return nil, nil
}

func (p *program) inTestFile(n ast.Node) bool {
	return strings.HasSuffix(p.pass.Fset.File(n.Pos()).Name(), "_test.go")
}

func calleeFunc(info *types.Info, call *ast.CallExpr) *types.Func {
	fn, _ := typeutil.Callee(info, call).(*types.Func)
	return fn
}

func (p *program) where(n ast.Node) string {
	posn := p.pass.Fset.Position(n.Pos())
	return fmt.Sprintf("%s:%d", shortName(posn.Filename), posn.Line)
}

func shortName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// first sets *reason to why unless it is set.
func first(reason *string, why string) {
	if *reason == "" {
		*reason = why
	}
}

// registeredByTested covers an external test package (x_test): the package it
// tests may register the workers its tests start.
func (p *program) registeredByTested() {
	path, ok := strings.CutSuffix(p.pass.Pkg.Path(), "_test")
	if !ok {
		return
	}
	for _, imp := range p.pass.Pkg.Imports() {
		if imp.Path() != path {
			continue
		}
		for _, name := range imp.Scope().Names() {
			if v, ok := imp.Scope().Lookup(name).(*types.Var); ok && mpcall.IsFuncType(v.Type()) {
				first(&p.forTests, "tests package "+imp.Name()+", which registers the worker "+name)
				return
			}
		}
	}
}

// wrappers returns the functions of the package that return an *mp.Func:
// they make workers for their callers, whose placement is checked instead.
func (p *program) wrappers() map[*types.Func]bool {
	out := make(map[*types.Func]bool)
	for fn := range p.funcs {
		if returnsFunc(fn.Signature()) {
			out[fn] = true
		}
	}
	return out
}

func returnsFunc(sig *types.Signature) bool {
	for v := range sig.Results().Variables() {
		if mpcall.IsFuncType(v.Type()) {
			return true
		}
	}
	return false
}

// checkPlacement reports a registration that does not run while the
// program initialises: in a function body, other than init, a function
// literal called in place at package level, or a function that returns the
// worker it makes.
func (p *program) checkPlacement(call *ast.CallExpr, what string, stack []ast.Node) {
	for i := len(stack) - 2; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncDecl:
			if f.Recv == nil && f.Name.Name == "init" {
				return
			}
			if fn, ok := p.pass.TypesInfo.Defs[f.Name].(*types.Func); ok && returnsFunc(fn.Signature()) {
				return
			}
			p.reportPlacement(call, what, "function "+f.Name.Name)
			return
		case *ast.FuncLit:
			if sig, ok := p.pass.TypesInfo.TypeOf(f).(*types.Signature); ok && returnsFunc(sig) {
				return
			}
			if c, ok := stack[i-1].(*ast.CallExpr); ok && ast.Unparen(c.Fun) == f {
				continue // runs where it is written
			}
			p.reportPlacement(call, what, "function literal")
			return
		}
	}
}

func (p *program) reportPlacement(call *ast.CallExpr, what, in string) {
	p.rep.Report(call.Pos(), call.End(), "mpmain", fmt.Sprintf(
		"%s registers a worker in the body of a %s: a worker process re-executes the program and looks "+
			"the name up before that code runs, so it fails with mp.ErrNotRegistered; "+
			"make the worker in a package-level variable: var w = mp.NewFunc(...)", what, in))
}

// checkMain reports a main or TestMain that does not hand control to mp.Main
// first.
func (p *program) checkMain(d *ast.FuncDecl, why string) {
	if len(d.Body.List) > 0 && p.callsMainFirst(d.Body.List[0], 0) {
		return
	}
	var late *ast.CallExpr
	ast.Inspect(d.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok && late == nil && mpcall.Func(p.pass.TypesInfo, c) == "Main" {
			late = c
		}
		return late == nil
	})
	name := d.Name.Name
	if late != nil {
		p.rep.Report(late.Pos(), late.End(), "mpmain", fmt.Sprintf(
			"mp.Main is not the first statement of %s: a worker process re-executes the program and runs "+
				"what comes before it again, in every worker; call mp.Main() first thing in %s", name, name))
		return
	}
	msg := fmt.Sprintf("%s does not call mp.Main, but the package %s: a worker process re-executes the "+
		"program and, without mp.Main first thing in %s, runs %s again instead of the worker's function, "+
		"so Start fails with mp.ErrNoMain; call mp.Main() as the first statement of %s",
		name, why, name, name, name)
	p.rep.Report(d.Name.Pos(), d.Name.End(), "mpmain", msg, p.insertMain(d)...)
}

// callsMainFirst reports whether stmt calls mp.Main, directly or as the
// first statement of a function of this package it calls.
func (p *program) callsMainFirst(stmt ast.Stmt, depth int) bool {
	es, ok := stmt.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := ast.Unparen(es.X).(*ast.CallExpr)
	if !ok {
		return false
	}
	if mpcall.Func(p.pass.TypesInfo, call) == "Main" {
		return true
	}
	d := p.funcs[calleeFunc(p.pass.TypesInfo, call)]
	return d != nil && depth < 3 && len(d.Body.List) > 0 && p.callsMainFirst(d.Body.List[0], depth+1)
}

// insertMain is the fix that makes mp.Main() the first statement of d, when
// d's file imports runtime/mp.
func (p *program) insertMain(d *ast.FuncDecl) []analysis.SuggestedFix {
	var file *ast.File
	for _, f := range p.pass.Files {
		if f.FileStart <= d.Pos() && d.Pos() < f.FileEnd {
			file = f
		}
	}
	name := mpcall.ImportName(file)
	if name == "" {
		return nil
	}
	edit := analysis.TextEdit{Pos: d.Body.Lbrace + 1, End: d.Body.Lbrace + 1, NewText: []byte("\n\t" + name + ".Main()\n")}
	if len(d.Body.List) > 0 {
		first := d.Body.List[0].Pos()
		if c := p.leadingComment(file, d.Body.Lbrace, first); c.IsValid() {
			first = c
		}
		edit = analysis.TextEdit{Pos: first, End: first, NewText: []byte(name + ".Main()\n\t")}
	}
	return []analysis.SuggestedFix{{
		Message:   "call " + name + ".Main() first thing in " + d.Name.Name,
		TextEdits: []analysis.TextEdit{edit},
	}}
}

// leadingComment returns the start of the first comment on its own line
// between the brace at from and the statement at to, so that an inserted
// statement goes above the comment of the first one.
func (p *program) leadingComment(file *ast.File, from, to token.Pos) token.Pos {
	tf := p.pass.Fset.File(from)
	for _, cg := range file.Comments {
		if cg.Pos() > from && cg.End() < to && tf.Line(cg.Pos()) > tf.Line(from) {
			return cg.Pos()
		}
	}
	return token.NoPos
}
