// Package lockerr recognises the LockContext and TryLockErr calls of
// runtime/mp locks and the tests of the errors they return, in SSA form.
//
// LockContext returns nil or ErrOwnerDead (wrapped) with the lock held, and
// the context's error without it; TryLockErr likewise, with ErrLocked for
// the context's error. What a branch on the error says about it
// is an Outcome: a set of the three cases.
package lockerr

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// Outcome is the set of results of LockContext still possible on a path.
type Outcome uint8

const (
	Nil       Outcome = 1 << iota // returned nil: held
	OwnerDead                     // returned ErrOwnerDead: held, from a dead owner
	Failed                        // returned the context's error (ErrLocked for TryLockErr): not held

	Any  = Nil | OwnerDead | Failed
	Held = Nil | OwnerDead
)

// Call returns the classified call if cc is LockContext on a runtime/mp
// handle.
func Call(cc *ssa.CallCommon) (catalog.Call, bool) {
	c, ok := catalog.Classify(cc)
	if !ok || c.Name != "LockContext" || c.M.Op != catalog.Acquire || !isMP(c.Key) {
		return catalog.Call{}, false
	}
	return c, true
}

// TryCall returns the classified call if cc is TryLockErr on a runtime/mp
// handle, whose results are LockContext's with ErrLocked as the failure:
// nil or ErrOwnerDead with the lock held, ErrLocked without it.
func TryCall(cc *ssa.CallCommon) (catalog.Call, bool) {
	c, ok := catalog.Classify(cc)
	if !ok || c.Name != "TryLockErr" || c.M.Op != catalog.TryAcquire || !isMP(c.Key) {
		return catalog.Call{}, false
	}
	return c, true
}

func isMP(key string) bool {
	return len(key) > len(catalog.MPPath) && key[:len(catalog.MPPath)+1] == catalog.MPPath+"."
}

// Test is a branch condition on a LockContext error.
type Test struct {
	Err ssa.Value
	// Then and Else are the outcomes still possible on the true and false
	// edges.
	Then, Else Outcome
	// Identity is set for err == mp.ErrOwnerDead, which is never true:
	// LockContext wraps the error.
	Identity bool
	Pos      token.Pos
}

// Branch returns the test that ends b, if b ends in an if on a comparison of
// an error with nil, errors.Is(err, target) or err == target.
func Branch(b *ssa.BasicBlock) (Test, bool) {
	if len(b.Instrs) == 0 {
		return Test{}, false
	}
	iff, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
	if !ok {
		return Test{}, false
	}
	cond, negated := iff.Cond, false
	for {
		u, ok := cond.(*ssa.UnOp)
		if !ok || u.Op != token.NOT {
			break
		}
		cond, negated = u.X, !negated
	}
	t, ok := test(cond)
	if !ok {
		return Test{}, false
	}
	if negated {
		t.Then, t.Else = t.Else, t.Then
	}
	return t, true
}

func test(cond ssa.Value) (Test, bool) {
	switch c := cond.(type) {
	case *ssa.BinOp:
		if c.Op != token.EQL && c.Op != token.NEQ {
			return Test{}, false
		}
		err, other := c.X, c.Y
		if !isError(err.Type()) {
			return Test{}, false
		}
		if isNil(err) {
			err, other = other, err
		}
		var t Test
		switch {
		case isNil(other):
			t = Test{Err: err, Then: Nil, Else: OwnerDead | Failed, Pos: c.Pos()}
		case isOwnerDead(other):
			t = Test{Err: err, Then: OwnerDead, Else: Nil | Failed, Identity: true, Pos: c.Pos()}
		default:
			t = Test{Err: err, Then: Failed, Else: Any, Pos: c.Pos()}
		}
		if c.Op == token.NEQ {
			t.Then, t.Else = t.Else, t.Then
		}
		return t, true
	case *ssa.Call:
		fn := c.Call.StaticCallee()
		if fn == nil || fn.Pkg == nil || fn.Pkg.Pkg.Path() != "errors" || fn.Name() != "Is" || len(c.Call.Args) != 2 {
			return Test{}, false
		}
		err := unwrapIface(c.Call.Args[0])
		if isOwnerDead(c.Call.Args[1]) {
			return Test{Err: err, Then: OwnerDead, Else: Nil | Failed, Pos: c.Pos()}, true
		}
		return Test{Err: err, Then: Failed, Else: Any, Pos: c.Pos()}, true
	}
	return Test{}, false
}

// unwrapIface strips conversions between interface types.
func unwrapIface(v ssa.Value) ssa.Value {
	for {
		c, ok := v.(*ssa.ChangeInterface)
		if !ok {
			return v
		}
		v = c.X
	}
}

func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

func isNil(v ssa.Value) bool {
	c, ok := v.(*ssa.Const)
	return ok && c.Value == nil
}

// isOwnerDead reports whether v is the value of mp.ErrOwnerDead.
func isOwnerDead(v ssa.Value) bool {
	v = unwrapIface(v)
	load, ok := v.(*ssa.UnOp)
	if !ok || load.Op != token.MUL {
		return false
	}
	g, ok := load.X.(*ssa.Global)
	return ok && g.Pkg != nil && g.Pkg.Pkg.Path() == catalog.MPPath && g.Name() == "ErrOwnerDead"
}

// decides reports whether the test tells a held lock from a failed call: a
// test against nil or ErrOwnerDead, not against another error.
func (t Test) decides() bool {
	return !(t.Then == Failed && t.Else == Any) && !(t.Else == Failed && t.Then == Any)
}

// Tested reports whether err is compared with nil or ErrOwnerDead anywhere:
// the code then decides whether it holds the lock by the error.
func Tested(err ssa.Value) bool {
	for _, r := range *err.Referrers() {
		for _, v := range usedIn(r) {
			if t, ok := test(v); ok && t.Err == err && t.decides() {
				return true
			}
		}
	}
	return false
}

// usedIn returns the candidate conditions a referrer of an error forms: the
// referrer itself, or the errors.Is call its interface conversion feeds.
func usedIn(r ssa.Instruction) []ssa.Value {
	v, ok := r.(ssa.Value)
	if !ok {
		return nil
	}
	if _, ok := v.(*ssa.ChangeInterface); ok {
		var out []ssa.Value
		for _, rr := range *v.Referrers() {
			if vv, ok := rr.(ssa.Value); ok {
				out = append(out, vv)
			}
		}
		return out
	}
	return []ssa.Value{v}
}
