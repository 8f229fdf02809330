package guards

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// An element of a guarded map, slice or array (s.m[k], s.list[i], s.ring[i]
// for an array field) is a cell of its own, keyed as a runtime/mp Dict's
// entries are: the same index expression is the same element, and any other
// is another (conservatively: s.m[k] and s.m[j] are never taken to be one).
// The element is guarded by the container's lock. delete(s.m, k) is not a
// write: deleting an entry another goroutine deleted meanwhile loses nothing.
// Elements of elements, and fields of elements, are not cells. For
// inferring guards, an element access is an access of the field or variable
// holding the container, and an element write a write of it.

// Element is an access to an element of a map, slice or array that a field
// or package variable holds.
type Element struct {
	Key     ssa.Value
	Write   bool
	Stored  ssa.Value // the value written
	CommaOk bool      // a lookup v, ok := s.m[k]
}

// ElementOf returns the element instr reads (a map lookup, a load of a slice
// or array element) or writes (a map update, a store to an element), with
// the access of the field or variable holding the container.
func ElementOf(instr ssa.Instruction) (Element, Access, bool) {
	var el Element
	var container ssa.Value
	switch i := instr.(type) {
	case *ssa.Lookup:
		if _, isMap := i.X.Type().Underlying().(*types.Map); !isMap {
			return el, Access{}, false // a byte of a string
		}
		el, container = Element{Key: i.Index, CommaOk: i.CommaOk}, loadedFrom(i.X)
	case *ssa.MapUpdate:
		el, container = Element{Key: i.Key, Write: true, Stored: i.Value}, loadedFrom(i.Map)
	case *ssa.UnOp:
		ia, ok := i.X.(*ssa.IndexAddr)
		if !ok || i.Op != token.MUL {
			return el, Access{}, false
		}
		el, container = Element{Key: ia.Index}, indexed(ia.X)
	case *ssa.Store:
		ia, ok := i.Addr.(*ssa.IndexAddr)
		if !ok {
			return el, Access{}, false
		}
		el, container = Element{Key: ia.Index, Write: true, Stored: i.Val}, indexed(ia.X)
	}
	if container == nil {
		return el, Access{}, false
	}
	a, ok := Location(container, el.Write)
	return el, a, ok
}

// indexed returns the address of the field or variable whose element an
// IndexAddr of x addresses: x itself for an array (&s.ring), the address
// the slice was loaded from for a slice.
func indexed(x ssa.Value) ssa.Value {
	if _, ok := x.Type().Underlying().(*types.Pointer); ok {
		switch x.(type) {
		case *ssa.FieldAddr, *ssa.Global:
			return x
		}
		return nil
	}
	return loadedFrom(x)
}

// loadedFrom returns the address v was loaded from when v is the value of a
// field or package variable (s.m), else nil.
func loadedFrom(v ssa.Value) ssa.Value {
	u, ok := v.(*ssa.UnOp)
	if !ok || u.Op != token.MUL {
		return nil
	}
	switch u.X.(type) {
	case *ssa.FieldAddr, *ssa.Global:
		return u.X
	}
	return nil
}
