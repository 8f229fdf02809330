// Package flow answers the two questions the mprace rules ask of a function
// in SSA form: which values are computed from a given value (data flow), and
// which blocks run only when a branch goes one way (control dependence).
package flow

import (
	"go/token"

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
func Forward(src ssa.Value) Set {
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
			case *ssa.Store:
				if instr.Val == v {
					if root := LocalRoot(instr.Addr); root != nil {
						add(root)
					}
				}
			case *ssa.MapUpdate:
				if root := LocalRoot(instr.Map); root != nil {
					add(root)
				}
			case *ssa.Send, *ssa.If, *ssa.Return, *ssa.Jump, *ssa.Panic, *ssa.Go, *ssa.Defer,
				*ssa.RunDefers, *ssa.DebugRef:
				// Values leave the function or steer control here; control
				// dependence is a separate question (see Controls).
			case ssa.Value:
				if _, isAlloc := instr.(*ssa.Alloc); !isAlloc {
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
			if len(s.Preds) == 1 && s.Dominates(target) {
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
