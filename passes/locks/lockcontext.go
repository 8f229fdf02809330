package locks

import (
	"fmt"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/lockerr"
)

// LockContext holds the lock only when it returns nil or ErrOwnerDead. When
// the function tests the error and releases the lock itself, the lock is
// taken on the edges of those tests that rule the context's error out, not
// at the call. Otherwise (the error dropped, or a lock helper that returns
// holding the lock for its caller to release) the call counts as taking the
// lock, as the caller believes.

// decidedByTests reports whether the lock a LockContext call takes is held
// only where tests of its error say so.
func decidedByTests(call *ssa.Call) bool {
	c, ok := lockerr.Call(call.Common())
	if !ok || !lockerr.Tested(call) {
		return false
	}
	p, ok := accesspath.Of(c.Recv)
	return ok && releases(call.Parent(), p.Key())
}

// releases reports whether fn, or a closure in it, unlocks the lock at key.
func releases(fn *ssa.Function, key string) bool {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			cc := inPlace(instr)
			if cc == nil {
				continue
			}
			c, ok := catalog.Classify(cc)
			if !ok {
				c, ok = catalog.ByName(cc)
			}
			if !ok || c.M.Op != catalog.Release {
				continue
			}
			if p, ok := accesspath.Of(c.Recv); ok && p.Key() == key {
				return true
			}
		}
	}
	for _, anon := range fn.AnonFuncs {
		if releases(anon, key) {
			return true
		}
	}
	return false
}

// lockContextEdge takes the lock of a LockContext call on the edge from b to
// its i'th successor when b's test of the call's error says it is held. A
// TryLockErr call holds its lock only there, like a TryLock on its true
// branch, whoever releases it.
func lockContextEdge(b *ssa.BasicBlock, i int, st *Set) *Set {
	t, ok := lockerr.Branch(b)
	if !ok {
		return st
	}
	call, ok := t.Err.(*ssa.Call)
	if !ok {
		return st
	}
	c, try := lockerr.TryCall(call.Common())
	if !try && !decidedByTests(call) {
		return st
	}
	out := t.Then
	if i == 1 {
		out = t.Else
	}
	if out&lockerr.Failed != 0 {
		return st
	}
	if !try {
		c, _ = lockerr.Call(call.Common())
	}
	p, ok := accesspath.Of(c.Recv)
	if !ok {
		return st
	}
	if st.Holds(p, true) {
		return st
	}
	return st.Acquire(p, true, fmt.Sprintf("i%p", call))
}

// InPlace returns the call of a call or defer instruction (a call that runs
// in this goroutine, now or at return), or nil: what can take or release a
// lock for the function.
func InPlace(instr ssa.Instruction) *ssa.CallCommon { return inPlace(instr) }
