// Package cell holds the record of one access to a shared cell (a runtime/mp
// object, a location accessed with sync/atomic, a guarded field or variable):
// what the passes/cells builder pass finds, and what the rules and the report
// wording read. It lives below the passes so that shared internals can
// describe an access without importing a pass.
package cell

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/flow"
	"github.com/mprace/mprace/passes/internal/lockstate"
)

// Access is one read, write or atomic update of a cell.
type Access struct {
	Op   catalog.Op
	Cell accesspath.Path
	// Instr is the call that makes the access, or for a plain load or
	// store of a location the package also accesses with sync/atomic
	// functions, or of a guarded field, that load or store.
	Instr ssa.Instruction
	// Value is the value read, for reads whose value is used; Flow is
	// every value computed from it.
	Value ssa.Value
	Flow  flow.Set
	// Stored are the values the written value is computed from.
	Stored []ssa.Value
	// Deferred: the access runs when the function returns.
	Deferred bool
	// Call is the cell operation, for direct accesses.
	Call catalog.Call
	// Closure: a closure called in place makes the access (Via is nil).
	Closure bool
	// Via is the accessor that makes the access for this function, and
	// Method the operation it performs underneath.
	Via    *types.Func
	Method string
	// Guarded: see passes/cells.Summary.
	Guarded bool
	// Exact: for reads, Value is the cell's value itself (a direct
	// read, or an accessor that returns it unchanged).
	Exact bool
	// Object is the field or package variable that is the cell, for
	// direct accesses of a whole cell (nil for elements and accessors).
	Object types.Object
	// Fresh: the cell belongs to an object the function itself creates
	// (see passes/cells freshRoots), written before anyone else can see it.
	Fresh bool
	// Own: a read of the value this function has just written to the
	// cell (see passes/cells ownValue); it decides nothing about other
	// goroutines.
	Own bool
	// Claimed: a successful atomic update of the cell (a CompareAndSwap)
	// decides the write.
	Claimed bool
	// SelfChecked: a read of the cell in the same function decides the
	// write. For an accessor that is its own check-then-act, reported
	// there; its callers' checks are not what decides the write.
	SelfChecked bool
	// SingleWriter: the cell is declared written by one goroutine by
	// design (see passes/cells.SingleWriterDirective); the checks skip it.
	SingleWriter bool
	// Depth: see passes/cells.Summary.
	Depth int
	// Locks are the locks held when the access happens.
	Locks *lockstate.Set
	// Guard is set for a field or variable that a lock guards (see
	// guarded.go).
	Guard *Guarding
}

// Pos returns the position of the access.
func (a *Access) Pos() token.Pos {
	if p := a.Instr.Pos(); p.IsValid() {
		return p
	}
	if u, ok := a.Instr.(*ssa.UnOp); ok {
		return u.X.Pos() // an implicit load of x.f: the selection's
	}
	return token.NoPos
}

// Mode is how the guarding lock is held at an access.
type Mode int

const (
	NotHeld Mode = iota
	HeldShared
	HeldExclusive
)

// Guarding is the guard of an access to a guarded field or variable.
type Guarding struct {
	// Lock is the guarding lock in the accessing function's terms (zero
	// when it cannot be named there).
	Lock     accesspath.Path
	Declared bool
	// Inner is how an accessor held the lock around the access it makes
	// for this function (NotHeld for direct accesses).
	Inner Mode
}

// HeldMode returns how the guarding lock of a guarded access is held: by
// the function making it or, for an accessor, around the access inside.
func (a *Access) HeldMode() Mode {
	if a.Guard == nil {
		return NotHeld
	}
	m := a.Guard.Inner
	if a.Guard.Lock.IsZero() {
		return m
	}
	for _, h := range a.Locks.Held() {
		if h.Path.Key() != a.Guard.Lock.Key() {
			continue
		}
		if h.Exclusive {
			m = HeldExclusive
		} else if m == NotHeld {
			m = HeldShared
		}
	}
	return m
}
