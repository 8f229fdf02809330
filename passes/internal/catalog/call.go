package catalog

import (
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Call is a classified call of a cell or lock operation.
type Call struct {
	Type   *Type       // nil for interface locks (sync.Locker and the like)
	Key    string      // table key of the receiver's type, or "" for interfaces
	Name   string      // method or function name
	M      Method      // classification
	Recv   ssa.Value   // the cell or lock, normalised (see Handle)
	Args   []ssa.Value // arguments after the receiver
	Func   bool        // sync/atomic package function form
	Invoke bool        // dynamic call through an interface
}

// Arg returns the i'th argument after the receiver, or nil.
func (c Call) Arg(i int) ssa.Value {
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// Classify classifies a call. It reports false for calls that are not cell
// or lock operations.
func Classify(cc *ssa.CallCommon) (Call, bool) {
	if cc.IsInvoke() {
		return classifyInvoke(cc)
	}
	callee := cc.StaticCallee()
	if callee == nil {
		return Call{}, false
	}
	sig := callee.Signature
	if sig.Recv() == nil {
		if callee.Pkg == nil || len(cc.Args) == 0 {
			return Call{}, false
		}
		mm := Func(callee.Pkg.Pkg.Path(), callee.Name())
		if mm.Op == None {
			return Call{}, false
		}
		return Call{Name: callee.Name(), M: mm, Recv: cc.Args[0], Args: cc.Args[1:], Func: true}, true
	}
	if len(cc.Args) == 0 {
		return Call{}, false
	}
	ty, mm, ok := Lookup(sig.Recv().Type(), callee.Name())
	if !ok || mm.Op == None {
		return Call{}, false
	}
	// A method promoted from an embedded handle (Int's Load, from Value)
	// belongs to the outer handle, whose type decides the fixes.
	recv, key := Handle(cc.Args[0]), TypeKey(sig.Recv().Type())
	if k := TypeKey(recv.Type()); Types[k] != nil {
		ty, key = Types[k], k
	}
	return Call{Type: ty, Key: key, Name: callee.Name(), M: mm, Recv: recv, Args: cc.Args[1:]}, true
}

// Handle strips the selection of an embedded handle from a receiver, so that
// i.Load() (a method of the Value embedded in Int) and i.Add() (a method of
// Int) name the same cell and the same lock.
func Handle(v ssa.Value) ssa.Value {
	for {
		fa, ok := v.(*ssa.FieldAddr)
		if !ok || Types[TypeKey(fa.X.Type())] == nil {
			return v
		}
		st, ok := fa.X.Type().Underlying().(*types.Pointer).Elem().Underlying().(*types.Struct)
		if !ok || !st.Field(fa.Field).Embedded() {
			return v
		}
		v = fa.X
	}
}

// classifyInvoke recognises Lock/Unlock (and RLock/RUnlock) called through an
// interface that has both Lock and Unlock, such as sync.Locker.
func classifyInvoke(cc *ssa.CallCommon) (Call, bool) {
	iface, ok := cc.Value.Type().Underlying().(*types.Interface)
	if !ok || !hasMethod(iface, "Lock") || !hasMethod(iface, "Unlock") {
		return Call{}, false
	}
	op, ok := lockOps[cc.Method.Name()]
	if !ok {
		return Call{}, false
	}
	return Call{Name: cc.Method.Name(), M: m(op), Recv: cc.Value, Args: cc.Args, Invoke: true}, true
}

// lockOps are the lock operations recognised by method name alone, on
// interfaces (sync.Locker and its kin) and on mutex types the table does not
// list.
var lockOps = map[string]Op{
	"Lock":    Acquire,
	"Unlock":  Release,
	"RLock":   AcquireShared,
	"RUnlock": ReleaseShared,
}

func hasMethod(iface *types.Interface, name string) bool {
	for i := 0; i < iface.NumMethods(); i++ {
		if f := iface.Method(i); f.Name() == name {
			s := f.Signature()
			return s.Params().Len() == 0 && s.Results().Len() == 0
		}
	}
	return false
}

// ByName classifies a static call of a method named Lock, Unlock, RLock or
// RUnlock, taking and returning nothing, on a type the table does not know:
// mutex types of other packages (internal/sync.Mutex, a project's own
// spinlock). It is the fallback when the method has no lock summary.
func ByName(cc *ssa.CallCommon) (Call, bool) {
	callee := cc.StaticCallee()
	if callee == nil || cc.IsInvoke() || len(cc.Args) != 1 {
		return Call{}, false
	}
	sig := callee.Signature
	if sig.Recv() == nil || sig.Params().Len() != 0 || sig.Results().Len() != 0 {
		return Call{}, false
	}
	op, ok := lockOps[callee.Name()]
	if !ok {
		return Call{}, false
	}
	return Call{Name: callee.Name(), M: m(op), Recv: cc.Args[0]}, true
}
