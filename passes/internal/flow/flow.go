// Package flow answers the two questions the mprace rules ask of a function
// in SSA form: which values are computed from a given value (data flow), and
// which blocks run only when a branch goes one way (control dependence).
package flow

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// maxValues bounds one forward walk, so a huge generated function costs a
// bounded amount of time; past it the walk stops and reports what it found.
const maxValues = 20000

// Set is a set of SSA values.
type Set map[ssa.Value]bool

// Forward returns the values computed from src within its function: through
// arithmetic, conversions, field and element selection, loads, phis, calls
// that take the value as an argument, and local memory (a composite literal or
// a local variable whose address is taken) the value is stored into. A
// variable only ever loaded and assigned whole carries the value to the loads
// that assignment reaches, not to those after it is assigned again.
func Forward(src ssa.Value) Set { return walk(src, false) }

// Direct returns the values computed from src by value operations alone:
// arithmetic, conversions, selection of fields and tuple elements, and phis;
// not through memory or calls. An accessor's result is "the value read" only
// in this narrow sense, so that a function returning something merely
// influenced by a cell (an object taken from a pool whose counters it read)
// is not mistaken for a reader of that cell.
func Direct(src ssa.Value) Set { return walk(src, true) }

func walk(src ssa.Value, direct bool) Set {
	out := make(Set)
	if src == nil {
		return out
	}
	work := []ssa.Value{src}
	out[src] = true
	add := func(v ssa.Value) {
		if v != nil && !out[v] && len(out) < maxValues {
			out[v] = true
			work = append(work, v)
		}
	}
	for len(work) > 0 {
		v := work[len(work)-1]
		work = work[:len(work)-1]
		refs := v.Referrers()
		if refs == nil {
			continue
		}
		for _, instr := range *refs {
			switch instr := instr.(type) {
			case *ssa.BinOp, *ssa.Convert, *ssa.ChangeType, *ssa.MakeInterface, *ssa.ChangeInterface,
				*ssa.Phi, *ssa.Extract, *ssa.Field, *ssa.TypeAssert:
				add(instr.(ssa.Value))
			case *ssa.UnOp:
				if !direct || instr.Op != token.MUL {
					add(instr)
				}
			case *ssa.Store:
				if direct {
					continue
				}
				if instr.Val != v {
					continue
				}
				if a, ok := instr.Addr.(*ssa.Alloc); ok && onlyLoadedStored(a) {
					for _, l := range reachedLoads(instr, a) {
						add(l)
					}
				} else if root := LocalRoot(instr.Addr); root != nil {
					add(root)
				}
			case *ssa.MapUpdate:
				if direct {
					continue
				}
				if root := LocalRoot(instr.Map); root != nil {
					add(root)
				}
			case *ssa.If:
				// A value chosen by a branch on src is computed
				// from it: v := true; if f.Load() { v = false }.
				if !direct {
					for _, phi := range chosen(instr) {
						add(phi)
					}
				}
			case *ssa.Send, *ssa.Return, *ssa.Jump, *ssa.Panic, *ssa.Go, *ssa.Defer,
				*ssa.RunDefers, *ssa.DebugRef:
				// Values leave the function or steer control here; control
				// dependence is a separate question (see Controls).
			case ssa.Value:
				if _, isAlloc := instr.(*ssa.Alloc); !isAlloc && !direct {
					add(instr)
				}
			}
		}
	}
	return out
}

// chosen returns the phis at the join points of iff whose value depends on
// which way iff went: different values arrive from its two ways.
func chosen(iff *ssa.If) []ssa.Value {
	b := iff.Block()
	var out []ssa.Value
	for _, d := range b.Dominees() {
		if len(d.Preds) < 2 {
			continue
		}
		sides := make([]int, len(d.Preds))
		for k, p := range d.Preds {
			sides[k] = sideOf(b, p, d)
		}
		for _, instr := range d.Instrs {
			phi, ok := instr.(*ssa.Phi)
			if !ok {
				break
			}
			var seen [2]ssa.Value
			for k, e := range phi.Edges {
				if sides[k] >= 0 && seen[sides[k]] == nil {
					seen[sides[k]] = e
				}
			}
			if seen[0] != nil && seen[1] != nil && seen[0] != seen[1] {
				out = append(out, phi)
			}
		}
	}
	return out
}

// sideOf returns which way of b's branch the edge from pred into d comes
// by (0: true, 1: false), or -1 when it is not one way alone.
func sideOf(b, pred, d *ssa.BasicBlock) int {
	for i, s := range b.Succs {
		if pred == b && s == d && b.Succs[1-i] != d {
			return i
		}
		if pred != b && s != d && len(s.Preds) == 1 && s.Dominates(pred) {
			return i
		}
	}
	return -1
}

// onlyLoadedStored reports whether the local variable a is only loaded and
// assigned whole (a named result kept in memory because the function defers
// calls): no address taken, no closure capturing it.
func onlyLoadedStored(a *ssa.Alloc) bool {
	for _, r := range *a.Referrers() {
		switch r := r.(type) {
		case *ssa.UnOp:
			if r.Op != token.MUL {
				return false
			}
		case *ssa.Store:
			if r.Addr != a || r.Val == a {
				return false
			}
		case *ssa.DebugRef:
		default:
			return false
		}
	}
	return true
}

// reachedLoads returns the loads of the variable a that the value st stores
// reaches: those on a path from st with no other assignment of a between.
// A value stored on a path that returns at once does not reach a load on
// another path that assigns the variable first.
func reachedLoads(st *ssa.Store, a *ssa.Alloc) []ssa.Value {
	var out []ssa.Value
	Reach(st, func(instr ssa.Instruction) bool {
		if s2, ok := instr.(*ssa.Store); ok && s2.Addr == a {
			return false
		}
		if l, ok := instr.(*ssa.UnOp); ok && l.X == a && l.Op == token.MUL {
			out = append(out, l)
		}
		return true
	})
	return out
}

// Reach calls visit for the instructions that can run after from in its
// function, following the control flow (around loops too) until visit
// returns false for an instruction, which ends that path. Each block is
// entered once.
func Reach(from ssa.Instruction, visit func(ssa.Instruction) bool) {
	start := from.Block()
	at := 0
	for i, instr := range start.Instrs {
		if instr == from {
			at = i + 1
		}
	}
	type pos struct {
		b *ssa.BasicBlock
		i int
	}
	seen := make(map[*ssa.BasicBlock]bool)
	work := []pos{{start, at}}
	for len(work) > 0 {
		w := work[len(work)-1]
		work = work[:len(work)-1]
		ended := false
		for _, instr := range w.b.Instrs[w.i:] {
			if !visit(instr) {
				ended = true
				break
			}
		}
		if ended {
			continue
		}
		for _, s := range w.b.Succs {
			if !seen[s] {
				seen[s] = true
				work = append(work, pos{s, 0})
			}
		}
	}
}

// LocalRoot returns the local allocation (composite literal, address-taken
// local, make) that addr points into, or nil when addr may point elsewhere.
func LocalRoot(addr ssa.Value) ssa.Value {
	for i := 0; i < 64; i++ {
		switch a := addr.(type) {
		case *ssa.Alloc:
			return a
		case *ssa.MakeSlice, *ssa.MakeMap:
			return a
		case *ssa.FieldAddr:
			addr = a.X
		case *ssa.IndexAddr:
			addr = a.X
		case *ssa.Slice:
			addr = a.X
		default:
			return nil
		}
	}
	return nil
}

// Meets reports whether any of vals is in s.
func (s Set) Meets(vals ...ssa.Value) bool {
	for _, v := range vals {
		if s[v] {
			return true
		}
	}
	return false
}

// Branch is one outcome of a conditional branch.
type Branch struct {
	If   *ssa.If
	Succ int // 0: condition true, 1: false
}

// Pos returns the position of the condition.
func (b Branch) Pos() token.Pos {
	if p := b.If.Cond.Pos(); p.IsValid() {
		return p
	}
	return b.If.Pos()
}

// Controls returns the branches whose condition is in cond and which
// decide whether target runs: target is control dependent on them. A
// branch decides target when one of its ways always leads to target while
// the branch itself can reach the function's exit without it; that covers an
// if statement, an early return, a loop condition and each operand of || and
// && in either order. Exits are the returns and the loops' back edges (one
// iteration is the unit a check decides, see exitBlocks); a way that never
// returns (t.Fatal's panic, log.Fatal) leads nowhere, so a branch on the
// other side is an assertion, not a decision.
func Controls(target *ssa.BasicBlock, cond Set) []Branch {
	var out []Branch
	// Control dependence is followed transitively: a write under
	// if c.Load() { if extra { ... } } is decided by both branches.
	seen := map[*ssa.BasicBlock]bool{target: true}
	work := []*ssa.BasicBlock{target}
	for len(work) > 0 && len(seen) < maxChain {
		x := work[0]
		work = work[1:]
		var g *depGraph
		for _, b := range x.Parent().Blocks {
			iff, ok := lastIf(b)
			if !ok || b.Succs[0] == b.Succs[1] {
				continue
			}
			if g == nil {
				g = newDepGraph(x)
			}
			if !g.avoids[b.Index] {
				continue // every way from b to the exit passes x
			}
			for i, s := range b.Succs {
				if !g.reaches[s.Index] || g.avoids[s.Index] || s.Dominates(b) {
					continue // s.Dominates(b): the way back to the loop's head
				}
				if cond[iff.Cond] {
					out = append(out, Branch{If: iff, Succ: i})
				}
				if !seen[b] {
					seen[b] = true
					work = append(work, b)
				}
			}
		}
	}
	return out
}

// maxChain bounds the branches followed from one target.
const maxChain = 32

// depGraph answers post-dominance by target: avoids holds the blocks that
// can reach an exit without passing target, reaches those that can reach
// target without taking a loop's back edge.
type depGraph struct {
	avoids, reaches []bool
}

func newDepGraph(target *ssa.BasicBlock) *depGraph {
	fn := target.Parent()
	n := len(fn.Blocks)
	g := &depGraph{avoids: make([]bool, n), reaches: make([]bool, n)}
	back := func(from []*ssa.BasicBlock, seen []bool, stop *ssa.BasicBlock, forward bool) {
		work := append([]*ssa.BasicBlock(nil), from...)
		for _, b := range work {
			seen[b.Index] = true
		}
		for len(work) > 0 {
			b := work[len(work)-1]
			work = work[:len(work)-1]
			for _, p := range b.Preds {
				if forward && b.Dominates(p) {
					continue // a back edge: the next iteration
				}
				if p != stop && !seen[p.Index] {
					seen[p.Index] = true
					work = append(work, p)
				}
			}
		}
	}
	// A branch decides target within one iteration of a loop: a check
	// that ends the loop does not decide what the next iteration does.
	back([]*ssa.BasicBlock{target}, g.reaches, nil, true)
	exits := exitBlocks(fn)
	var from []*ssa.BasicBlock
	for _, e := range exits {
		if e != target {
			from = append(from, e)
		}
	}
	back(from, g.avoids, target, false)
	return g
}

// exitBlocks returns the blocks that end one iteration of the function's
// work: those that return, and the sources of loops' back edges. A branch
// that decides target within one iteration is a decision even in a loop
// that only ends through target (for { if c.Load() < max { c.Add(1); break } }).
func exitBlocks(fn *ssa.Function) []*ssa.BasicBlock {
	var exits []*ssa.BasicBlock
	for _, b := range fn.Blocks {
		if n := len(b.Instrs); n > 0 {
			if _, ok := b.Instrs[n-1].(*ssa.Return); ok {
				exits = append(exits, b)
				continue
			}
		}
		for _, s := range b.Succs {
			if s.Dominates(b) {
				exits = append(exits, b)
				break
			}
		}
	}
	return exits
}

func lastIf(b *ssa.BasicBlock) (*ssa.If, bool) {
	if len(b.Instrs) == 0 {
		return nil, false
	}
	iff, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
	return iff, ok
}

// Unchanged strips the operations that keep a value what it is
// (conversions between types of the same value, boxing in an interface,
// type assertions) to find the value it passes on.
func Unchanged(v ssa.Value) ssa.Value {
	for i := 0; i < 16; i++ {
		switch x := v.(type) {
		case *ssa.ChangeType:
			v = x.X
		case *ssa.MakeInterface:
			v = x.X
		case *ssa.ChangeInterface:
			v = x.X
		case *ssa.Convert:
			// Between integer types (a named Level and the int64 it is
			// stored as) a conversion passes the value on.
			if !isInteger(x.Type()) || !isInteger(x.X.Type()) {
				return v
			}
			v = x.X
		case *ssa.TypeAssert:
			if x.CommaOk {
				return v
			}
			v = x.X
		default:
			return v
		}
	}
	return v
}

func isInteger(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// Before reports whether a runs before b on every path to b.
func Before(a, b ssa.Instruction) bool {
	ab, bb := a.Block(), b.Block()
	if ab != bb {
		return ab.Dominates(bb)
	}
	for _, instr := range ab.Instrs {
		switch instr {
		case a:
			return true
		case b:
			return false
		}
	}
	return false
}
