package rawtype

import (
	"fmt"
	"go/types"
)

// firstPointer mirrors the runtime's test for raw types (runtime/internal/
// layout): booleans and numbers, and arrays and structs of them. It returns
// the path to the first part that is not raw, and that part's kind as
// reflect names it. Type parameters are not judged.
func firstPointer(t types.Type, path string) (string, string, bool) {
	if _, ok := types.Unalias(t).(*types.TypeParam); ok {
		return "", "", true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&(types.IsBoolean|types.IsNumeric) != 0:
			return "", "", true
		case u.Kind() == types.UnsafePointer:
			return path, "unsafe.Pointer", false
		}
		return path, "string", false
	case *types.Array:
		return firstPointer(u.Elem(), path+"[i]")
	case *types.Struct:
		for f := range u.Fields() {
			if p, k, ok := firstPointer(f.Type(), path+"."+f.Name()); !ok {
				return p, k, false
			}
		}
		return "", "", true
	case *types.Pointer:
		return path, "ptr", false
	case *types.Slice:
		return path, "slice", false
	case *types.Map:
		return path, "map", false
	case *types.Chan:
		return path, "chan", false
	case *types.Signature:
		return path, "func", false
	case *types.Interface:
		return path, "interface", false
	}
	return "", "", true
}

// gobCheck walks a type as encoding/gob does when it compiles an encoder,
// recording the first part it refuses and the first field it drops.
type gobCheck struct {
	qual    types.Qualifier
	seen    map[types.Type]bool
	refused string
	// noFields: what is refused is a struct with no field gob sends.
	noFields bool
	dropped  string
}

const maxDepth = 32

func (g *gobCheck) visit(t types.Type, path string) {
	g.walk(t, path, 0)
}

// field checks t as the type of an exported struct field: gob skips fields
// of channel and function type, so a worker argument of such a type leaves
// the envelope it travels in with nothing to send.
func (g *gobCheck) field(t types.Type, path string) {
	if k := chanOrFunc(t); k != "" {
		g.refused = fmt.Sprintf("%s is a %s, which gob does not send", path, k)
		return
	}
	g.walk(t, path, 0)
}

func (g *gobCheck) walk(t types.Type, path string, depth int) {
	if g.refused != "" || depth > maxDepth {
		return
	}
	if _, ok := types.Unalias(t).(*types.TypeParam); ok {
		return
	}
	if selfEncoding(t) {
		return
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			g.refused = path + " is an unsafe.Pointer"
		}
	case *types.Pointer:
		g.walk(u.Elem(), path, depth+1)
	case *types.Slice:
		g.walk(u.Elem(), path+"[i]", depth+1)
	case *types.Array:
		g.walk(u.Elem(), path+"[i]", depth+1)
	case *types.Map:
		g.walk(u.Key(), path+" (a key)", depth+1)
		g.walk(u.Elem(), path+"[k]", depth+1)
	case *types.Chan:
		g.refused = path + " is a chan"
	case *types.Signature:
		g.refused = path + " is a func"
	case *types.Struct:
		if g.seen[t] {
			return
		}
		g.seen[t] = true
		sent := 0
		for f := range u.Fields() {
			if !f.Exported() {
				continue
			}
			fpath := path + "." + f.Name()
			if k := chanOrFunc(f.Type()); k != "" {
				if g.dropped == "" {
					g.dropped = fmt.Sprintf("%s (a %s field)", fpath, k)
				}
				continue
			}
			sent++
			g.walk(f.Type(), fpath, depth+1)
		}
		if u.NumFields() > 0 && sent == 0 && g.refused == "" {
			g.refused = fmt.Sprintf("%s has no exported field gob can send (%s)", path, types.TypeString(t, g.qual))
			g.noFields = true
		}
	}
}

// chanOrFunc returns "chan" or "func" for a type gob skips as a struct
// field: a channel or function, through any number of pointers.
func chanOrFunc(t types.Type) string {
	for {
		p, ok := t.Underlying().(*types.Pointer)
		if !ok {
			break
		}
		t = p.Elem()
	}
	switch t.Underlying().(type) {
	case *types.Chan:
		return "chan"
	case *types.Signature:
		return "func"
	}
	return ""
}

// selfEncoding reports whether t or *t has one of the methods gob prefers to
// its own encoding: GobEncode, MarshalBinary or MarshalText.
func selfEncoding(t types.Type) bool {
	for _, name := range []string{"GobEncode", "MarshalBinary", "MarshalText"} {
		obj, _, _ := types.LookupFieldOrMethod(t, true, nil, name)
		fn, ok := obj.(*types.Func)
		if !ok {
			continue
		}
		sig := fn.Signature()
		if sig.Params().Len() == 0 && sig.Results().Len() == 2 {
			return true
		}
	}
	return false
}
