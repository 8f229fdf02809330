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
// a local variable whose address is taken) the value is stored into.
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
				if instr.Val == v {
					if root := LocalRoot(instr.Addr); root != nil {
						add(root)
					}
				}
			case *ssa.MapUpdate:
				if direct {
					continue
				}
				if root := LocalRoot(instr.Map); root != nil {
					add(root)
				}
			case *ssa.Send, *ssa.If, *ssa.Return, *ssa.Jump, *ssa.Panic, *ssa.Go, *ssa.Defer,
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

// Controls returns the branches of fn whose condition is in cond and which
// decide whether target runs: target runs only after that branch went one
// particular way. It uses dominance rather than post-dominance: target must be
// dominated by a successor that only that branch reaches, which is what an
// if statement, an early return and a loop condition all look like.
func Controls(target *ssa.BasicBlock, cond Set) []Branch {
	var out []Branch
	for _, b := range target.Parent().Blocks {
		iff, ok := lastIf(b)
		if !ok || !cond[iff.Cond] || b.Succs[0] == b.Succs[1] {
			continue
		}
		for i, s := range b.Succs {
			// A branch whose other way never returns (t.Fatal, panic,
			// log.Fatal) is an assertion, not a decision.
			if len(s.Preds) == 1 && s.Dominates(target) && returns(b.Succs[1-i]) {
				out = append(out, Branch{If: iff, Succ: i})
			}
		}
	}
	return out
}

func lastIf(b *ssa.BasicBlock) (*ssa.If, bool) {
	if len(b.Instrs) == 0 {
		return nil, false
	}
	iff, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
	return iff, ok
}

// returns reports whether some path from b reaches a return.
func returns(b *ssa.BasicBlock) bool {
	seen := make(map[*ssa.BasicBlock]bool)
	work := []*ssa.BasicBlock{b}
	for len(work) > 0 {
		x := work[len(work)-1]
		work = work[:len(work)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		if n := len(x.Instrs); n > 0 {
			if _, ok := x.Instrs[n-1].(*ssa.Return); ok {
				return true
			}
		}
		work = append(work, x.Succs...)
	}
	return false
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
