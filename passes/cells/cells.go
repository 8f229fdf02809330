package cells

import (
	"fmt"
	"go/token"
	"go/types"
	"reflect"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/guards"
	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/cell"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer finds cell accesses; see the package documentation.
var Analyzer = &analysis.Analyzer{
	Name:       "mpracecells",
	Doc:        "builder pass of the mprace suite; finds accesses to shared cells",
	URL:        "https://pkg.go.dev/github.com/mprace/mprace/passes/cells",
	Run:        run,
	Requires:   []*analysis.Analyzer{buildssa.Analyzer, locks.Analyzer, guards.Analyzer},
	ResultType: reflect.TypeFor[*Result](),
	FactTypes:  []analysis.Fact{new(Accessor), new(SingleWriter)},
}

// Access is one read, write or atomic update of a cell (see
// passes/internal/cell).
type Access = cell.Access

// Result holds the accesses of each function of the package.
type Result struct {
	Funcs map[*ssa.Function][]*Access
	// Order lists the functions with accesses in source order.
	Order []*ssa.Function
}

// EachWrite calls f for every plain write of a cell, with all the accesses
// of the write's function, in source order of functions.
func (r *Result) EachWrite(f func(w *Access, all []*Access)) {
	for _, fn := range r.Order {
		accs := r.Funcs[fn]
		for _, w := range accs {
			if w.Op == catalog.Write {
				f(w, accs)
			}
		}
	}
}

func run(pass *analysis.Pass) (any, error) {
	ssainfo := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)
	funcs := locks.Funcs(ssainfo)
	exportSingleWriters(pass)
	c := &collector{
		sw:        make(map[types.Object]bool),
		atomic:    atomicLocations(funcs),
		pass:      pass,
		locks:     pass.ResultOf[locks.Analyzer].(*locks.Result),
		guards:    pass.ResultOf[guards.Analyzer].(*guards.Result),
		summaries: make(map[*ssa.Function]*Accessor),
		fresh:     make(map[*ssa.Function]bool),
		res:       &Result{Funcs: make(map[*ssa.Function][]*Access)},
	}
	for _, fn := range locks.CalleesFirst(funcs) {
		acc := c.collect(fn)
		if len(acc) > 0 {
			c.res.Funcs[fn] = acc
		}
		// Closures are summarised too, for the calls of them in place
		// (get := func() int64 { return c.Load() }; c.Store(get()+1)).
		if sum := summarize(fn, acc); sum != nil {
			c.summaries[fn] = sum
			if obj := fn.Object(); obj != nil && fn.Parent() == nil {
				pass.ExportObjectFact(obj, sum)
			}
		}
	}
	for _, fn := range funcs {
		if _, ok := c.res.Funcs[fn]; ok {
			c.res.Order = append(c.res.Order, fn)
		}
	}
	return c.res, nil
}

type collector struct {
	pass      *analysis.Pass
	locks     *locks.Result
	guards    *guards.Result
	summaries map[*ssa.Function]*Accessor
	res       *Result
	// atomic holds the variables and fields the package accesses with
	// sync/atomic functions.
	atomic map[types.Object]bool
	// fresh caches returnsFresh.
	fresh map[*ssa.Function]bool
	// sw caches single-writer declarations by object.
	sw map[types.Object]bool
}

// collect finds the accesses of fn.
func (c *collector) collect(fn *ssa.Function) []*Access {
	var out []*Access
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			var cc *ssa.CallCommon
			deferred := false
			switch i := instr.(type) {
			case *ssa.Call:
				cc = i.Common()
			case *ssa.Defer:
				cc, deferred = i.Common(), true
			case *ssa.UnOp, *ssa.Store:
				if a := c.plain(instr); a != nil {
					a.Object = cellObject(addrOf(instr))
					a.SingleWriter = c.singleWriter(a.Object)
					out = append(out, a)
				}
				continue
			default:
				continue // calls in go statements run elsewhere, later
			}
			ci := instr.(ssa.CallInstruction)
			if call, ok := catalog.Classify(cc); ok {
				if a := direct(ci, call); a != nil {
					a.Deferred = deferred
					obj := cellObject(call.Recv)
					a.SingleWriter = c.singleWriter(obj)
					if call.M.Index < 0 {
						a.Object = obj
					}
					out = append(out, a)
					if call.M.Size && call.M.Index >= 0 {
						// The entry count changes too: a Len check
						// that decided it was a check of the whole.
						whole := *a
						whole.Op, whole.Cell, whole.Value, whole.Stored = catalog.Update, a.Cell.TrimLast(), nil, nil
						out = append(out, &whole)
					}
				}
				continue
			}
			out = append(out, c.viaAccessor(ci, cc, deferred)...)
		}
	}
	out = c.dropUnshared(fn, append(out, c.guardedAccesses(fn)...))
	out = dropLocal(fn, out)
	for _, a := range out {
		a.Locks = c.locks.At(a.Instr)
		if a.Value != nil {
			a.Flow = flow.Forward(a.Value)
		}
	}
	for _, a := range out {
		a.Own = a.Op == catalog.Read && ownValue(a, out)
	}
	for _, a := range out {
		if a.Op == catalog.Write || a.Op == catalog.Update {
			a.Claimed = claimed(a, out)
			a.Guarded = a.Guarded || a.Claimed || rechecked(a, out) || c.lockClaimed(a) || tested(a) ||
				claimedOther(a, out)
			a.SelfChecked = a.Via == nil && selfChecked(a, out)
		}
	}
	return out
}

// direct makes the access of a cell operation.
func direct(ci ssa.CallInstruction, call catalog.Call) *Access {
	switch call.M.Op {
	case catalog.Read, catalog.Write, catalog.Update, catalog.ReadAll, catalog.WriteAll:
	default:
		return nil
	}
	p, ok := accesspath.Of(call.Recv)
	if !ok {
		return nil
	}
	if call.M.Index >= 0 {
		idx := call.Arg(call.M.Index)
		if idx == nil {
			return nil
		}
		p = p.Append(accesspath.IndexElem(idx))
	}
	a := &Access{Op: call.M.Op, Cell: p, Instr: ci, Call: call, Method: call.Name}
	if v, ok := ci.(*ssa.Call); ok && (call.M.Op == catalog.Read || call.M.Op == catalog.Update) {
		a.Value, a.Exact = v, true
	}
	if call.M.Op == catalog.Write {
		if v := call.Arg(call.M.Value); v != nil {
			a.Stored = []ssa.Value{v}
		}
	}
	return a
}

// viaAccessor makes the accesses a call of an accessor performs.
func (c *collector) viaAccessor(ci ssa.CallInstruction, cc *ssa.CallCommon, deferred bool) []*Access {
	callee := cc.StaticCallee()
	if callee == nil {
		return nil
	}
	if o := callee.Origin(); o != nil {
		callee = o
	}
	sum := c.summaries[callee]
	obj, _ := callee.Object().(*types.Func)
	if sum == nil {
		if obj == nil || obj.Pkg() == c.pass.Pkg {
			return nil
		}
		var fact Accessor
		if !c.pass.ImportObjectFact(obj, &fact) {
			return nil
		}
		sum = &fact
	}
	var out []*Access
	for _, s := range sum.Accesses {
		p, ok := accesspath.Substitute(s.Cell, cc.Args)
		if !ok && callee.Parent() != nil && s.Cell.RootKind == accesspath.RootValue {
			p, ok = s.Cell, true // a closure's cell of its enclosing function
		}
		if !ok {
			continue
		}
		a := &Access{Op: s.Op, Cell: p, Instr: ci, Deferred: deferred, Via: obj, Closure: callee.Parent() != nil,
			Method: s.Method, Guarded: s.Guarded, Depth: s.Depth + 1, Exact: s.Exact,
			SingleWriter: s.SingleWriter || (obj != nil && c.singleWriter(obj)), Guard: s.Guard.in(cc.Args)}
		if v, ok := ci.(*ssa.Call); ok && (s.Op == catalog.Read || s.Op == catalog.Update) && s.Result >= 0 {
			a.Value = resultValue(v, s.Result)
		}
		for _, j := range s.Params {
			if j < len(cc.Args) {
				a.Stored = append(a.Stored, cc.Args[j])
			}
		}
		out = append(out, a)
	}
	return out
}

// resultValue returns the value of the i'th result of a call, or nil.
func resultValue(call *ssa.Call, i int) ssa.Value {
	if call.Call.Signature().Results().Len() == 1 {
		if i == 0 {
			return call
		}
		return nil
	}
	for _, r := range *call.Referrers() {
		if e, ok := r.(*ssa.Extract); ok && e.Index == i {
			return e
		}
	}
	return nil
}

// summarize builds the Accessor fact of fn from its accesses, or nil.
func summarize(fn *ssa.Function, accs []*Access) *Accessor {
	var sums []Summary
	var paramFlows []flow.Set
	for _, a := range accs {
		if a.Deferred || a.Depth >= maxDepth {
			continue
		}
		cell, ok := accesspath.Relative(a.Cell, fn)
		if !ok && fn.Parent() != nil && a.Cell.RootKind == accesspath.RootValue {
			cell, ok = a.Cell, true // the enclosing function's, named as it names it
		}
		if !ok {
			continue
		}
		switch a.Op {
		case catalog.Read:
			// A read whose value is not returned still tells the caller
			// that the cell was read at the call (a re-check). A read
			// that several results carry (v, ok := m[k]; return v, ok) is
			// a read at each: the caller may check any of them.
			rets := []returned{{i: -1}}
			if a.Value != nil {
				if rs := returnedAs(fn, a.Value); len(rs) > 0 {
					rets = rs
				}
			}
			for _, r := range rets {
				sums = append(sums, Summary{Op: a.Op, Cell: cell, Result: r.i, Method: a.Method, Depth: a.Depth,
					Exact: r.exact && a.Exact, SingleWriter: a.SingleWriter, Guard: guardSummary(a, fn)})
			}
		case catalog.Write, catalog.Update:
			if paramFlows == nil {
				for _, p := range fn.Params {
					paramFlows = append(paramFlows, flow.Forward(p))
				}
			}
			s := Summary{Op: a.Op, Cell: cell, Result: -1, Method: a.Method, Guarded: a.Guarded || a.SelfChecked,
				Depth: a.Depth, SingleWriter: a.SingleWriter, Guard: guardSummary(a, fn)}
			if a.Op == catalog.Update && a.Value != nil {
				// The old value a Swap returns, handed on to the
				// caller, whose test of it makes a test-and-set.
				if rs := returnedAs(fn, a.Value); len(rs) > 0 {
					s.Result = rs[0].i
				}
			}
			for j, pf := range paramFlows {
				if pf.Meets(a.Stored...) {
					s.Params = append(s.Params, j)
				}
			}
			sums = append(sums, s)
		}
	}
	sums = dedupe(sums)
	if len(sums) == 0 {
		return nil
	}
	return &Accessor{Accesses: sums}
}

// maxDepth bounds how many accessors deep a cell access is carried up:
// a getter of a getter is still about the cell; a cell reached through
// layers of library code (a pool's counters under fmt.Errorf) is an
// implementation detail of that library, not its callers' business.
const maxDepth = 2

// maxSummary bounds an accessor's summary. A function that touches more
// cells for its caller than this is not an accessor but a subsystem, and
// summarising it whole would make summaries grow with call depth.
const maxSummary = 16

// dedupe drops repeated summaries (one per call site of a callee otherwise)
// and keeps at most maxSummary.
func dedupe(sums []Summary) []Summary {
	seen := make(map[string]bool)
	var out []Summary
	for _, s := range sums {
		k := fmt.Sprint(s.Op, s.Cell.Key(), s.Result, s.Exact, s.Params, s.Guarded, s.SingleWriter)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
		if len(out) == maxSummary {
			break
		}
	}
	return out
}

// resultStore returns the store of a value of vals into the result
// variable that r loads: a function with defers returns its results
// through such variables, so that a recovering defer could change them.
func resultStore(r ssa.Value, vals flow.Set) *ssa.Store {
	load, ok := r.(*ssa.UnOp)
	if !ok || load.Op != token.MUL {
		return nil
	}
	alloc, ok := load.X.(*ssa.Alloc)
	if !ok || alloc.Heap {
		return nil
	}
	var found *ssa.Store
	for _, ref := range *alloc.Referrers() {
		if st, ok := ref.(*ssa.Store); ok && st.Addr == alloc {
			if !vals[st.Val] {
				return nil // assigned something else on some path
			}
			found = st
		}
	}
	return found
}

// returned is a result of a function that carries a value: its index, and
// whether it is the value itself.
type returned struct {
	i     int
	exact bool
}

// returnedAs returns the results of fn computed from v by value operations
// (see flow.Direct), at the first return that has any.
func returnedAs(fn *ssa.Function, v ssa.Value) []returned {
	vals := flow.Direct(v)
	for _, b := range fn.Blocks {
		if len(b.Instrs) == 0 {
			continue
		}
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok {
			continue
		}
		var out []returned
		for i, r := range ret.Results {
			if vals[r] {
				out = append(out, returned{i, flow.Unchanged(r) == flow.Unchanged(v)})
			} else if st := resultStore(r, vals); st != nil {
				out = append(out, returned{i, flow.Unchanged(st.Val) == flow.Unchanged(v)})
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
