package guards

import (
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer finds guarded fields and variables; see the package documentation.
var Analyzer = &analysis.Analyzer{
	Name:       "mpraceguards",
	Doc:        "builder pass of the mprace suite; finds the fields and variables a lock guards",
	URL:        "https://pkg.go.dev/github.com/mprace/mprace/passes/guards",
	Run:        run,
	Requires:   []*analysis.Analyzer{buildssa.Analyzer, locks.Analyzer},
	ResultType: reflect.TypeFor[*Result](),
	FactTypes:  []analysis.Fact{new(Guard)},
}

// Result answers which lock guards a field or variable, for this package's
// and (through facts) other packages'.
type Result struct {
	pass   *analysis.Pass
	guards map[*types.Var]*Guard
}

// Of returns the guard of the field or package variable v, or nil.
func (r *Result) Of(v *types.Var) *Guard {
	if v == nil {
		return nil
	}
	v = v.Origin()
	if g, ok := r.guards[v]; ok {
		return g
	}
	var g *Guard
	if v.Pkg() != nil && v.Pkg() != r.pass.Pkg {
		var f Guard
		if r.pass.ImportObjectFact(v, &f) {
			g = &f
		}
	}
	r.guards[v] = g
	return g
}

// Access is a load or store of a field or package variable.
type Access struct {
	Var   *types.Var
	Addr  ssa.Value // the FieldAddr or Global
	Write bool
	// Owner is the path of the struct holding a field (zero for a
	// package variable).
	Owner accesspath.Path
}

// AccessOf returns the access instr makes, if it loads or stores a field
// (through its address) or a package variable.
func AccessOf(instr ssa.Instruction) (Access, bool) {
	var addr ssa.Value
	write := false
	switch i := instr.(type) {
	case *ssa.UnOp:
		if i.Op != token.MUL {
			return Access{}, false
		}
		addr = i.X
	case *ssa.Store:
		addr, write = i.Addr, true
	default:
		return Access{}, false
	}
	return Location(addr, write)
}

// Location returns the access made through addr, if it is the address of a
// field or a package variable.
func Location(addr ssa.Value, write bool) (Access, bool) {
	switch a := addr.(type) {
	case *ssa.Global:
		v, ok := a.Object().(*types.Var)
		return Access{Var: v, Addr: a, Write: write}, ok
	case *ssa.FieldAddr:
		v := fieldVar(a)
		if v == nil {
			return Access{}, false
		}
		owner, ok := accesspath.Of(a.X)
		return Access{Var: v, Addr: a, Write: write, Owner: owner}, ok
	}
	return Access{}, false
}

func fieldVar(fa *ssa.FieldAddr) *types.Var {
	ptr, ok := fa.X.Type().Underlying().(*types.Pointer)
	if !ok {
		return nil
	}
	st, ok := ptr.Elem().Underlying().(*types.Struct)
	if !ok || fa.Field >= st.NumFields() {
		return nil
	}
	return st.Field(fa.Field).Origin()
}

// Fresh reports whether an access is to a value allocated in the function
// making it and reached without following a pointer: a write before the
// value is shared with anyone (a constructor filling in its result).
func Fresh(addr ssa.Value) bool {
	for i := 0; i < 64; i++ {
		switch a := addr.(type) {
		case *ssa.Alloc:
			return true
		case *ssa.FieldAddr:
			addr = a.X
		case *ssa.IndexAddr:
			if _, ok := a.X.Type().Underlying().(*types.Pointer); !ok {
				return false // a slice element: the backing array may be shared
			}
			addr = a.X
		default:
			return false
		}
	}
	return false
}

func run(pass *analysis.Pass) (any, error) {
	ssainfo := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)
	held := pass.ResultOf[locks.Analyzer].(*locks.Result)
	res := &Result{pass: pass, guards: declared(pass.Fset, pass.Files, pass.TypesInfo, pass.Pkg)}
	for v, g := range infer(pass, locks.Funcs(ssainfo), held) {
		if _, ok := res.guards[v]; !ok {
			res.guards[v] = g
		}
	}
	vars := make([]*types.Var, 0, len(res.guards))
	for v := range res.guards {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Pos() < vars[j].Pos() })
	for _, v := range vars {
		if v.Pkg() == pass.Pkg {
			pass.ExportObjectFact(v, res.guards[v])
		}
	}
	return res, nil
}

// evidence is what the package's accesses show about one field or variable.
type evidence struct {
	common  map[string]*Guard // guards held at every access so far; nil before the first
	writes  int
	escaped bool // its address is used otherwise than to load or store it
}

// infer finds the fields and variables of the package that every access
// touches with one same lock held.
func infer(pass *analysis.Pass, funcs []*ssa.Function, held *locks.Result) map[*types.Var]*Guard {
	ev := make(map[*types.Var]*evidence)
	get := func(v *types.Var) *evidence {
		e := ev[v]
		if e == nil {
			e = &evidence{}
			ev[v] = e
		}
		return e
	}
	for _, fn := range funcs {
		initFn := fn.Parent() == nil && fn.Signature.Recv() == nil && isInit(fn.Name())
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if fa, ok := instr.(*ssa.FieldAddr); ok {
					if v := fieldVar(fa); v != nil && v.Pkg() == pass.Pkg && escapes(fa) {
						get(v).escaped = true
					}
					continue
				}
				for _, g := range escapedGlobals(instr) {
					if v, ok := g.Object().(*types.Var); ok && v.Pkg() == pass.Pkg {
						get(v).escaped = true
					}
				}
				a, ok := AccessOf(instr)
				if !ok {
					_, a, ok = ElementOf(instr)
				}
				if !ok || a.Var.Pkg() != pass.Pkg || initFn || Fresh(a.Addr) || inTest(pass, instr.Pos(), fn) {
					continue
				}
				e := get(a.Var)
				if a.Write {
					e.writes++
				}
				cands := candidates(a, held.At(instr))
				if e.common == nil {
					e.common = cands
					continue
				}
				for k := range e.common {
					if _, ok := cands[k]; !ok {
						delete(e.common, k)
					}
				}
			}
		}
	}
	out := make(map[*types.Var]*Guard)
	for v, e := range ev {
		if e.escaped || e.writes == 0 || len(e.common) == 0 {
			continue
		}
		keys := make([]string, 0, len(e.common))
		for k := range e.common {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the nearest lock first: Up 0 sorts before Up 1
		out[v] = e.common[keys[0]]
	}
	return out
}

// candidates are the guards an access could have, given the locks held at
// it (in either mode): each held lock, named relative to the access.
func candidates(a Access, st *locks.Set) map[string]*Guard {
	out := make(map[string]*Guard)
	for _, h := range st.Held() {
		var g *Guard
		switch {
		case h.Path.RootKind == accesspath.RootGlobal:
			g = &Guard{Lock: h.Path}
		case a.Var.IsField():
			g = relativeTo(h.Path, a.Owner)
		}
		if g != nil {
			out[g.key()] = g
		}
	}
	return out
}

// maxUp bounds how many levels of by-value nesting a field's lock may sit
// above the field's struct.
const maxUp = 2

// relativeTo names lock relative to owner, the struct holding a field, or
// its by-value parents; nil when the lock is not reached from there.
func relativeTo(lock, owner accesspath.Path) *Guard {
	base := owner
	for up := 0; up <= maxUp; up++ {
		if hasPrefix(lock, base) && len(lock.Elems) > len(base.Elems) {
			rel := ownerRoot.Append(lock.Elems[len(base.Elems):]...)
			return &Guard{Lock: rel, Up: up}
		}
		n := len(base.Elems)
		if n == 0 || base.Elems[n-1].Kind != accesspath.ElemField {
			return nil
		}
		base = base.TrimLast()
	}
	return nil
}

func hasPrefix(p, pre accesspath.Path) bool {
	if p.RootKind != pre.RootKind || p.RootID != pre.RootID || len(p.Elems) < len(pre.Elems) {
		return false
	}
	for i, e := range pre.Elems {
		if p.Elems[i].Kind != e.Kind || p.Elems[i].Name != e.Name {
			return false
		}
	}
	return true
}

// escapes reports whether the address of a field is used otherwise than to
// load, store or select within it.
func escapes(fa *ssa.FieldAddr) bool {
	for _, r := range *fa.Referrers() {
		switch r := r.(type) {
		case *ssa.UnOp:
			if r.Op != token.MUL {
				return true
			}
		case *ssa.Store:
			if r.Addr != fa {
				return true
			}
		case *ssa.FieldAddr, *ssa.IndexAddr, *ssa.DebugRef:
		default:
			return true
		}
	}
	return false
}

// escapedGlobals returns the package variables whose address instr uses
// otherwise than to load, store or select within them.
func escapedGlobals(instr ssa.Instruction) []*ssa.Global {
	var out []*ssa.Global
	for _, op := range instr.Operands(nil) {
		g, ok := (*op).(*ssa.Global)
		if !ok {
			continue
		}
		switch i := instr.(type) {
		case *ssa.UnOp:
			if i.Op == token.MUL {
				continue
			}
		case *ssa.Store:
			if i.Addr == g && i.Val != g {
				continue
			}
		case *ssa.FieldAddr, *ssa.IndexAddr, *ssa.DebugRef:
			continue
		}
		out = append(out, g)
	}
	return out
}

func isInit(name string) bool { return name == "init" || strings.HasPrefix(name, "init#") }

// inTest reports whether pos is in a _test.go file: tests look at state
// between steps, one goroutine at a time, without the locks.
func inTest(pass *analysis.Pass, pos token.Pos, fn *ssa.Function) bool {
	if !pos.IsValid() {
		pos = fn.Pos()
	}
	f := pass.Fset.File(pos)
	return f != nil && strings.HasSuffix(f.Name(), "_test.go")
}
