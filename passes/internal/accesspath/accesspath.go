// Package accesspath gives SSA values a canonical access path, the identity
// the mprace passes use for "the same cell" and "the same lock".
//
// Two values have the same path when they are reached the same way from the
// same root: the same global, the same parameter, the same local variable or
// the same SSA value, followed by the same field selections, the same
// constant or SSA index values and the same loads. Free variables of a
// closure are resolved to the value bound at the closure's creation, so a
// closure and its enclosing function agree on paths.
//
// Paths are syntactic: two loads of s.c at different points are taken to be
// the same handle. That is the programmer's view of "the same cell" and the
// price of not running a pointer analysis.
package accesspath

import (
	"fmt"
	"go/constant"
	"go/types"
	"strconv"
	"strings"

	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/flow"
)

// Root kinds. Param roots appear only in paths stored in facts, where the
// root is the index of the parameter of the summarised function.
const (
	RootGlobal = "g"
	RootParam  = "p"
	RootValue  = "v"
)

// Elem kinds.
const (
	ElemField = '.'
	ElemIndex = '['
	ElemDeref = '*'
)

// Elem is one step of a path: a field selection, an index or a load.
type Elem struct {
	Kind byte
	Name string // field name, or the canonical key of the index
	Show string // how the index is written in the source, for messages
}

// Path is a canonical access path. Its fields are exported so that paths can
// travel in analysis facts (which are gob-encoded).
type Path struct {
	RootKind string
	RootID   string // global's qualified name, parameter index, or value identity
	RootName string // how the root is written in the source
	Elems    []Elem
}

// Key returns a string that is equal for equal paths.
func (p Path) Key() string {
	var b strings.Builder
	b.WriteString(p.RootKind)
	b.WriteByte(':')
	b.WriteString(p.RootID)
	for _, e := range p.Elems {
		b.WriteByte(e.Kind)
		b.WriteString(e.Name)
	}
	return b.String()
}

// String returns the path as a Go programmer would write it.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.RootName)
	for _, e := range p.Elems {
		switch e.Kind {
		case ElemField:
			b.WriteByte('.')
			b.WriteString(e.Name)
		case ElemIndex:
			b.WriteByte('[')
			b.WriteString(e.Show)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// IsZero reports whether p is the zero path (no path known).
func (p Path) IsZero() bool { return p.RootKind == "" }

// Append returns p extended by e, without sharing p's backing array.
func (p Path) Append(e ...Elem) Path {
	q := p
	q.Elems = append(append([]Elem(nil), p.Elems...), e...)
	return q
}

// TrimLast returns p without its last element.
func (p Path) TrimLast() Path {
	q := p
	q.Elems = append([]Elem(nil), p.Elems[:len(p.Elems)-1]...)
	return q
}

// ConstIndex reports whether e is an index by a constant (IndexElem keys
// constants with a "c" prefix; computed indexes are keyed otherwise).
func (e Elem) ConstIndex() bool { return e.Kind == ElemIndex && strings.HasPrefix(e.Name, "c") }

// IndexElem returns the element for indexing by v.
func IndexElem(v ssa.Value) Elem {
	// A key passed as an interface (a sync.Map's) is the value boxed.
	for i := 0; i < 4; i++ {
		mi, ok := v.(*ssa.MakeInterface)
		if !ok {
			break
		}
		v = mi.X
	}
	if c, ok := v.(*ssa.Const); ok && c.Value != nil {
		s := c.Value.ExactString()
		if c.Value.Kind() == constant.String {
			s = constant.StringVal(c.Value)
			return Elem{Kind: ElemIndex, Name: "c" + strconv.Quote(s), Show: strconv.Quote(s)}
		}
		return Elem{Kind: ElemIndex, Name: "c" + s, Show: s}
	}
	key, show := indexExpr(resolve(v), 0)
	return Elem{Kind: ElemIndex, Name: key, Show: show}
}

// indexExpr gives an index value a key that is equal for equal
// computations: a[i%4] and a[i%4] computed twice from the same i are the
// same element, as are two loads of the same variable or field.
func indexExpr(v ssa.Value, depth int) (key, show string) {
	if depth > 8 {
		return valueID(v), showValue(v)
	}
	switch x := v.(type) {
	case *ssa.Const:
		if x.Value != nil {
			return "c" + x.Value.ExactString(), x.Value.ExactString()
		}
	case *ssa.BinOp:
		kx, sx := indexExpr(resolve(x.X), depth+1)
		ky, sy := indexExpr(resolve(x.Y), depth+1)
		return "(" + kx + x.Op.String() + ky + ")", sx + x.Op.String() + sy
	case *ssa.Convert:
		return indexExpr(resolve(x.X), depth+1)
	case *ssa.ChangeType:
		return indexExpr(resolve(x.X), depth+1)
	case *ssa.UnOp:
		if x.Op.String() != "*" {
			k, sh := indexExpr(resolve(x.X), depth+1)
			return x.Op.String() + k, x.Op.String() + sh
		}
		if p, ok := Of(x); ok {
			return p.Key(), p.String()
		}
	}
	if p, ok := Of(v); ok && len(p.Elems) == 0 {
		return p.Key(), p.RootName
	}
	return valueID(v), showValue(v)
}

// Of returns the canonical path of v.
func Of(v ssa.Value) (Path, bool) {
	return of(v, 0)
}

const maxDepth = 32

func of(v ssa.Value, depth int) (Path, bool) {
	if depth > maxDepth || v == nil {
		return Path{}, false
	}
	switch v := v.(type) {
	case *ssa.Global:
		pkg := ""
		if v.Pkg != nil {
			pkg = v.Pkg.Pkg.Path()
		}
		name := v.Name()
		return Path{RootKind: RootGlobal, RootID: pkg + "." + name, RootName: name}, true
	case *ssa.FieldAddr:
		p, ok := of(v.X, depth+1)
		if !ok {
			return p, false
		}
		return p.Append(Elem{Kind: ElemField, Name: fieldName(v.X.Type(), v.Field, true)}), true
	case *ssa.Field:
		p, ok := of(v.X, depth+1)
		if !ok {
			return p, false
		}
		return p.Append(Elem{Kind: ElemField, Name: fieldName(v.X.Type(), v.Field, false)}), true
	case *ssa.IndexAddr:
		p, ok := of(v.X, depth+1)
		if !ok {
			return p, false
		}
		return p.Append(IndexElem(v.Index)), true
	case *ssa.UnOp:
		if v.Op.String() != "*" {
			break
		}
		if x := SingleStore(resolve(v.X)); x != nil {
			// A variable assigned once is the value assigned: the heap
			// copy SSA makes of a parameter a closure captures, or a local
			// bound once (b := s.blks[i]), names what it holds.
			return of(x, depth+1)
		}
		p, ok := of(v.X, depth+1)
		if !ok {
			return p, false
		}
		return p.Append(Elem{Kind: ElemDeref}), true
	case *ssa.ChangeType:
		return of(v.X, depth+1)
	case *ssa.Convert:
		// (*int32)(p) for an unsafe.Pointer p names the same location.
		if _, ok := v.Type().Underlying().(*types.Pointer); ok {
			return of(v.X, depth+1)
		}
	case *ssa.MakeInterface:
		return of(v.X, depth+1)
	case *ssa.ChangeInterface:
		return of(v.X, depth+1)
	case *ssa.FreeVar:
		if b := binding(v); b != nil {
			return of(b, depth+1)
		}
	case *ssa.Call:
		// A getter (s.Counter(), counter()) names what it returns by
		// how it is called: the same getter of the same base is the
		// same cell, as it is to the programmer.
		callee := v.Call.StaticCallee()
		if callee == nil || v.Call.Signature().Results().Len() != 1 {
			break
		}
		if _, ok := v.Type().Underlying().(*types.Pointer); !ok {
			break
		}
		switch len(v.Call.Args) {
		case 0:
			return Path{RootKind: RootGlobal, RootID: "func " + callee.String(), RootName: callee.Name() + "()"}, true
		case 1:
			if v.Call.Signature().Recv() == nil && callee.Signature.Recv() == nil {
				break
			}
			p, ok := of(v.Call.Args[0], depth+1)
			if !ok {
				return p, false
			}
			return p.Append(Elem{Kind: ElemField, Name: callee.Name() + "()"}), true
		}
	}
	v = resolve(v)
	return Path{RootKind: RootValue, RootID: valueID(v), RootName: showValue(v)}, true
}

// SingleStore returns the one value ever stored in a local variable, or nil:
// v must be an Alloc whose only uses are that store, loads, and bindings of
// closures (which read it through free variables), and the store must come
// before every load in the function (a parameter captured by a closure, a
// local assigned once at its declaration).
func SingleStore(v ssa.Value) ssa.Value {
	a, ok := v.(*ssa.Alloc)
	if !ok {
		return nil
	}
	var st *ssa.Store
	refs := a.Referrers()
	if refs == nil {
		return nil
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.Store:
			if st != nil || r.Addr != a {
				return nil
			}
			st = r
		case *ssa.UnOp:
			if r.Op.String() != "*" {
				return nil
			}
		case *ssa.MakeClosure:
			if !onlyLoaded(r, a, 0) {
				return nil
			}
		case *ssa.DebugRef:
		default:
			return nil
		}
	}
	if st == nil {
		return nil
	}
	for _, r := range *refs {
		if u, ok := r.(*ssa.UnOp); ok && !flow.Before(st, u) {
			return nil
		}
	}
	return st.Val
}

// onlyLoaded reports whether the closure mc, given the variable v, only
// reads it (through its free variable, or closures nested in it).
func onlyLoaded(mc *ssa.MakeClosure, v ssa.Value, depth int) bool {
	fn, ok := mc.Fn.(*ssa.Function)
	if !ok || depth > 8 {
		return false
	}
	for i, b := range mc.Bindings {
		if b != v || i >= len(fn.FreeVars) {
			continue
		}
		fv := fn.FreeVars[i]
		for _, r := range *fv.Referrers() {
			switch r := r.(type) {
			case *ssa.UnOp:
				if r.Op.String() != "*" {
					return false
				}
			case *ssa.MakeClosure:
				if !onlyLoaded(r, fv, depth+1) {
					return false
				}
			case *ssa.DebugRef:
			default:
				return false
			}
		}
	}
	return true
}

// resolve maps a free variable to the value bound to it, transitively.
func resolve(v ssa.Value) ssa.Value {
	for i := 0; i < maxDepth; i++ {
		fv, ok := v.(*ssa.FreeVar)
		if !ok {
			return v
		}
		b := binding(fv)
		if b == nil {
			return v
		}
		v = b
	}
	return v
}

// Binding returns the value bound to fv where its closure is created (in the
// enclosing function), when the closure is created exactly once; else nil.
func Binding(fv *ssa.FreeVar) ssa.Value { return binding(fv) }

func binding(fv *ssa.FreeVar) ssa.Value {
	fn := fv.Parent()
	if fn == nil || fn.Parent() == nil {
		return nil
	}
	idx := -1
	for i, f := range fn.FreeVars {
		if f == fv {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	var found ssa.Value
	for _, b := range fn.Parent().Blocks {
		for _, instr := range b.Instrs {
			mc, ok := instr.(*ssa.MakeClosure)
			if !ok || mc.Fn != fn {
				continue
			}
			if found != nil {
				return nil
			}
			found = mc.Bindings[idx]
		}
	}
	return found
}

func valueID(v ssa.Value) string {
	return fmt.Sprintf("%p", v)
}

func showValue(v ssa.Value) string {
	switch v := v.(type) {
	case *ssa.Parameter:
		return v.Name()
	case *ssa.Alloc:
		if v.Comment != "" {
			return v.Comment
		}
	case *ssa.Global:
		return v.Name()
	case *ssa.Const:
		if v.Value != nil {
			return v.Value.ExactString()
		}
	}
	return "(" + v.Name() + ")"
}

func fieldName(t types.Type, i int, ptr bool) string {
	t = t.Underlying()
	if ptr {
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem().Underlying()
		}
	}
	if s, ok := t.(*types.Struct); ok && i < s.NumFields() {
		return s.Field(i).Name()
	}
	return strconv.Itoa(i)
}
