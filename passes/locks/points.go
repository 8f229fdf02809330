package locks

import (
	"go/token"

	"golang.org/x/tools/go/ssa"
)

// recorded reports whether the locks held before instr are kept in the
// result: calls (cell operations, accessors) and the loads and stores of
// struct fields and package variables, which are cells when a lock guards
// them (see passes/guards).
func recorded(instr ssa.Instruction) bool {
	switch i := instr.(type) {
	case ssa.CallInstruction:
		return true
	case *ssa.UnOp:
		return i.Op == token.MUL && fieldOrGlobal(i.X)
	case *ssa.Store:
		return fieldOrGlobal(i.Addr)
	}
	return false
}

func fieldOrGlobal(addr ssa.Value) bool {
	switch addr.(type) {
	case *ssa.FieldAddr, *ssa.Global:
		return true
	}
	return false
}
