package locks

import (
	"fmt"
	"go/token"
	"reflect"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/lockstate"
)

// Analyzer computes held locks; see the package documentation.
var Analyzer = &analysis.Analyzer{
	Name:       "mpracelocks",
	Doc:        "builder pass of the mprace suite; computes held locks",
	URL:        "https://pkg.go.dev/github.com/mprace/mprace/passes/locks",
	Run:        run,
	Requires:   []*analysis.Analyzer{buildssa.Analyzer},
	ResultType: reflect.TypeFor[*Result](),
	FactTypes:  []analysis.Fact{new(Summary), new(OnePermit)},
}

// Result gives the locks held at each call of the package's functions.
type Result struct {
	at map[ssa.Instruction]*Set
}

// At returns the locks held just before instr runs (nil: none known). It
// knows every call, and the branches (If), loads, stores, map lookups and
// updates and returns made with a lock held.
func (r *Result) At(instr ssa.Instruction) *Set { return r.at[instr] }

// record keeps the locks held at a branch, load or store when there are
// any: most memory operations run with none, and a map entry each would
// cost more than the analysis.
func (r *Result) record(instr ssa.Instruction, st *Set) {
	if !st.Empty() {
		r.at[instr] = st
	} else {
		delete(r.at, instr)
	}
}

type state struct {
	pass      *analysis.Pass
	res       *Result
	summaries map[*ssa.Function]*Summary
	// paramCalls holds, for the function being solved, the locks held at
	// each synchronous call of a function-typed parameter.
	paramCalls map[int]*Set
	permits    *permits
}

func run(pass *analysis.Pass) (any, error) {
	info := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)
	funcs := Funcs(info)
	s := &state{pass: pass, res: &Result{at: make(map[ssa.Instruction]*Set)},
		summaries: make(map[*ssa.Function]*Summary), permits: newPermits(pass, info.Pkg, funcs)}
	order := CalleesFirst(funcs)
	for _, fn := range order {
		s.paramCalls = make(map[int]*Set)
		s.summaries[fn] = s.summarize(fn, s.solve(fn, &Set{}))
	}
	s.paramCalls = nil
	s.permits.export()
	// Functions entered only in place (unexported functions called only
	// directly, closures called, deferred or passed to a callee that calls
	// them) run under the locks held at every entry.
	s.propagate(order)
	for _, fn := range funcs {
		obj := fn.Object()
		if obj == nil || fn.Parent() != nil {
			continue
		}
		if sum := s.summaries[fn].exportable(); !sum.empty() {
			pass.ExportObjectFact(obj, sum)
		}
	}
	return s.res, nil
}

// maxRounds bounds the fixed-point iteration; lock states form a finite
// lattice so it converges long before, but a bound keeps bad input cheap.
const maxRounds = 64

// solve runs the must-hold analysis over fn from the entry state and records
// the state before every call. It returns the state at each return.
func (s *state) solve(fn *ssa.Function, entry *Set) []*Set {
	if len(fn.Blocks) == 0 {
		return nil
	}
	in := make([]*Set, len(fn.Blocks))
	edges := make(map[[2]int]*Set) // (from, to) -> state on that edge
	in[0] = entry
	var exits []*Set
	for round := 0; round < maxRounds; round++ {
		changed := false
		exits = exits[:0]
		for _, b := range fn.Blocks {
			if b.Index != 0 {
				var st *Set
				for _, p := range b.Preds {
					if e, ok := edges[[2]int{p.Index, b.Index}]; ok {
						st = lockstate.Meet(st, e, fmt.Sprintf("m%d:", b.Index))
					}
				}
				if st == nil {
					continue
				}
				if in[b.Index] == nil || !lockstate.Equal(in[b.Index], st) {
					in[b.Index] = st
					changed = true
				}
			}
			st := in[b.Index]
			if st == nil {
				continue
			}
			for _, instr := range b.Instrs {
				switch i := instr.(type) {
				case ssa.CallInstruction:
					s.res.at[instr] = st
					s.noteParamCall(fn, instr, st)
				case *ssa.If, *ssa.Store, *ssa.Return, *ssa.Lookup, *ssa.MapUpdate:
					s.res.record(instr, st)
				case *ssa.UnOp:
					if i.Op == token.MUL {
						s.res.record(instr, st)
					}
				}
				if _, ok := instr.(*ssa.Return); ok {
					exits = append(exits, st)
				}
				st = s.transfer(fn, instr, st)
			}
			for i, succ := range b.Succs {
				edges[[2]int{b.Index, succ.Index}] = s.branch(b, i, st)
			}
		}
		if !changed && round > 0 {
			break
		}
	}
	return exits
}

func (s *state) transfer(fn *ssa.Function, instr ssa.Instruction, st *Set) *Set {
	switch instr := instr.(type) {
	case *ssa.Call:
		if decidedByTests(instr) {
			return st // held on the edges of its error's tests (lockcontext.go)
		}
		return s.call(instr.Common(), fmt.Sprintf("i%p", instr), st)
	case *ssa.RunDefers:
		// Deferred unlocks run here: what they release is not held at
		// the returns that follow.
		for _, b := range fn.Blocks {
			for _, i := range b.Instrs {
				if d, ok := i.(*ssa.Defer); ok {
					st = s.releasesOnly(d.Common(), st)
				}
			}
		}
	}
	return st
}

func (s *state) call(cc *ssa.CallCommon, id string, st *Set) *Set {
	c, ok := s.classify(cc)
	if !ok {
		if sum, _ := s.calleeSummary(cc); sum == nil || !sum.changesLocks() {
			c, ok = catalog.ByName(cc)
		}
	}
	if ok && c.M.Op.IsLock() {
		p, ok := accesspath.Of(c.Recv)
		if !ok {
			return st
		}
		switch c.M.Op {
		case catalog.Acquire:
			return st.Acquire(p, true, id)
		case catalog.AcquireShared:
			return st.Acquire(p, false, id)
		case catalog.Release:
			return st.Release(p, true)
		case catalog.ReleaseShared:
			return st.Release(p, false)
		}
		return st
	}
	return s.applySummary(cc, id, st, true)
}

// applySummary applies what a callee does to its caller's locks: its
// releases, and its acquisitions unless only releases are wanted.
func (s *state) applySummary(cc *ssa.CallCommon, id string, st *Set, acquires bool) *Set {
	sum, args := s.calleeSummary(cc)
	if sum == nil {
		return st
	}
	for _, r := range sum.Releases {
		if p, ok := substitute(r.Path, args); ok {
			st = st.Release(p, r.Exclusive)
		}
	}
	if !acquires {
		return st
	}
	for i, r := range sum.Acquires {
		if p, ok := substitute(r.Path, args); ok {
			st = st.Acquire(p, r.Exclusive, fmt.Sprintf("%s#%d", id, i))
		}
	}
	return st
}

// substitute is accesspath.Substitute for lock summaries, which may also
// hold paths rooted at values of an enclosing function (a closure's locks,
// the same at its call site).
func substitute(p accesspath.Path, args []ssa.Value) (accesspath.Path, bool) {
	if p.RootKind == accesspath.RootValue {
		return p, true
	}
	return accesspath.Substitute(p, args)
}

func (s *state) releasesOnly(cc *ssa.CallCommon, st *Set) *Set {
	c, ok := s.classify(cc)
	if !ok {
		if sum, _ := s.calleeSummary(cc); sum == nil || !sum.changesLocks() {
			c, ok = catalog.ByName(cc)
		}
	}
	if ok {
		if c.M.Op == catalog.Release || c.M.Op == catalog.ReleaseShared {
			return s.call(cc, "", st)
		}
		return st
	}
	return s.applySummary(cc, "", st, false)
}

// calleeSummary returns the lock summary of a static callee (from this
// package's analysis or from a fact) and the arguments to substitute.
func (s *state) calleeSummary(cc *ssa.CallCommon) (*Summary, []ssa.Value) {
	callee := cc.StaticCallee()
	if callee == nil {
		return nil, nil
	}
	if o := callee.Origin(); o != nil {
		callee = o
	}
	if sum, ok := s.summaries[callee]; ok {
		return sum, cc.Args
	}
	obj := callee.Object()
	if obj == nil || obj.Pkg() == s.pass.Pkg {
		return nil, nil
	}
	var sum Summary
	if s.pass.ImportObjectFact(obj, &sum) {
		return &sum, cc.Args
	}
	return nil, nil
}

// branch returns the state on the edge from b to its i'th successor: a
// TryLock that returned true holds its lock on that edge.
func (s *state) branch(b *ssa.BasicBlock, i int, st *Set) *Set {
	st = lockContextEdge(b, i, st)
	if len(b.Instrs) == 0 {
		return st
	}
	iff, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
	if !ok {
		return st
	}
	cond, want := iff.Cond, 0
	if u, ok := cond.(*ssa.UnOp); ok && u.Op.String() == "!" {
		cond, want = u.X, 1
	}
	call, ok := cond.(*ssa.Call)
	if !ok || i != want {
		return st
	}
	c, ok := s.classify(call.Common())
	if !ok || (c.M.Op != catalog.TryAcquire && c.M.Op != catalog.TryAcquireShared) {
		return st
	}
	p, ok := accesspath.Of(c.Recv)
	if !ok {
		return st
	}
	return st.Acquire(p, c.M.Op == catalog.TryAcquire, fmt.Sprintf("i%p", call))
}

// noteParamCall records the locks held where fn calls (or defers a call of)
// one of its function-typed parameters.
func (s *state) noteParamCall(fn *ssa.Function, instr ssa.Instruction, st *Set) {
	if s.paramCalls == nil {
		return
	}
	cc := inPlace(instr)
	if cc == nil {
		return
	}
	if cc.IsInvoke() {
		return
	}
	s.noteParam(fn, cc.Value, st)
	// A parameter handed on to a callee that calls it in place runs
	// under what the callee holds then: walk(f) { walk2(f) }.
	sum, args := s.calleeSummary(cc)
	if sum == nil {
		return
	}
	for _, c := range sum.Calls {
		if c.Param >= len(args) {
			continue
		}
		if _, ok := args[c.Param].(*ssa.Parameter); ok {
			s.noteParam(fn, args[c.Param], s.withHeld(st, c, args, fmt.Sprintf("fwd%p", cc)))
		}
	}
}

// noteParam records st as held where fn's parameter v is called.
func (s *state) noteParam(fn *ssa.Function, v ssa.Value, st *Set) {
	prm, ok := v.(*ssa.Parameter)
	if !ok {
		return
	}
	for i, p := range fn.Params {
		if p == prm {
			s.paramCalls[i] = lockstate.Meet(s.paramCalls[i], st, "param:")
		}
	}
}

// withHeld adds to st the locks a callee holds when it calls its c.Param.
func (s *state) withHeld(st *Set, c ParamCall, args []ssa.Value, id string) *Set {
	for k, r := range c.Held {
		if p, ok := accesspath.Substitute(r.Path, args); ok {
			st = st.Acquire(p, r.Exclusive, fmt.Sprintf("%s#%d", id, k))
		}
	}
	return st
}

// summarize meets the states at fn's returns into what fn leaves its caller.
func (s *state) summarize(fn *ssa.Function, exits []*Set) *Summary {
	var st *Set
	for _, e := range exits {
		st = lockstate.Meet(st, e, "exit:")
	}
	sum := &Summary{}
	for i := range fn.Params {
		ps, ok := s.paramCalls[i]
		if !ok {
			continue
		}
		c := ParamCall{Param: i}
		for _, h := range ps.Held() {
			if p, ok := relative(h.Path, fn); ok {
				c.Held = append(c.Held, LockRef{Path: p, Exclusive: h.Exclusive})
			}
		}
		sum.Calls = append(sum.Calls, c)
	}
	if st == nil {
		return sum
	}
	for _, h := range st.Held() {
		if p, ok := relative(h.Path, fn); ok {
			sum.Acquires = append(sum.Acquires, LockRef{Path: p, Exclusive: h.Exclusive})
		}
	}
	for _, p := range st.Released() {
		if q, ok := relative(p, fn); ok {
			sum.Releases = append(sum.Releases, LockRef{Path: q, Exclusive: true})
		}
	}
	sum.sort()
	return sum
}

// relative expresses p in terms of fn's parameters; paths rooted at values of
// an enclosing function are kept as they are (they mean the same thing at the
// closure's call site, which is in that function).
func relative(p accesspath.Path, fn *ssa.Function) (accesspath.Path, bool) {
	if q, ok := accesspath.Relative(p, fn); ok {
		return q, true
	}
	if fn.Parent() != nil {
		for _, prm := range fn.Params {
			if q, _ := accesspath.Of(prm); q.RootID == p.RootID {
				return accesspath.Path{}, false
			}
		}
		return p, true
	}
	return accesspath.Path{}, false
}

// passedTo returns the locks fn runs under when it is passed as an argument
// to a callee that calls that parameter in place: the caller's locks, which
// stay held during the call, and those the callee holds when it calls it.
func (s *state) passedTo(cc *ssa.CallCommon, fn *ssa.Function, st *Set) (*Set, bool) {
	sum, args := s.calleeSummary(cc)
	if sum == nil {
		return nil, false
	}
	for j, a := range args {
		if mc, ok := a.(*ssa.MakeClosure); ok {
			a = mc.Fn
		}
		if a != fn {
			continue
		}
		for _, c := range sum.Calls {
			if c.Param == j {
				return s.withHeld(st, c, args, fmt.Sprintf("param%p", cc)), true
			}
		}
	}
	return nil, false
}

// inPlace returns the call of a call or defer instruction: calls that run in
// this goroutine, now or at return (not go statements); nil otherwise.
func inPlace(instr ssa.Instruction) *ssa.CallCommon {
	switch c := instr.(type) {
	case *ssa.Call:
		return c.Common()
	case *ssa.Defer:
		return c.Common()
	}
	return nil
}
