package catalog

import (
	"go/types"
	"strings"

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
	Bound  bool        // call of a method value (load := c.Load; load())
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
	if c, ok := classifyBound(cc); ok {
		return c, true
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
	return method(sig.Recv().Type(), callee.Name(), cc.Args[0], cc.Args[1:])
}

// method classifies a call of the named method of recvType on recv.
func method(recvType types.Type, name string, recv ssa.Value, args []ssa.Value) (Call, bool) {
	ty, mm, ok := Lookup(recvType, name)
	if !ok || mm.Op == None {
		return Call{}, false
	}
	// A method promoted from an embedded handle (Int's Load, from Value)
	// belongs to the outer handle, whose type decides the fixes.
	recv, key := Handle(recv), TypeKey(recvType)
	if k := TypeKey(recv.Type()); Types[k] != nil {
		ty, key = Types[k], k
	}
	return Call{Type: ty, Key: key, Name: name, M: mm, Recv: recv, Args: args}, true
}

// classifyBound classifies the call of a method value, a closure over its
// receiver (load := c.Load; load()): it is the method's call on that
// receiver.
func classifyBound(cc *ssa.CallCommon) (Call, bool) {
	mc, ok := cc.Value.(*ssa.MakeClosure)
	if !ok || len(mc.Bindings) != 1 {
		return Call{}, false
	}
	fn, ok := mc.Fn.(*ssa.Function)
	if !ok || !strings.HasPrefix(fn.Synthetic, "bound method wrapper") {
		return Call{}, false
	}
	obj, ok := fn.Object().(*types.Func)
	if !ok {
		return Call{}, false
	}
	sig, ok := obj.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return Call{}, false
	}
	c, ok := method(sig.Recv().Type(), obj.Name(), mc.Bindings[0], cc.Args)
	c.Bound = true
	return c, ok
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
