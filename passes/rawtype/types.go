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

// encodeCheck walks a type as runtime/internal/codec compiles it (compile.go),
// recording the first part the codec refuses and how to fix it.
type encodeCheck struct {
	qual    types.Qualifier
	seen    map[types.Type]bool
	refused string
	// fix is the remedy for what is refused.
	fix string
	// typeFix: the refusal may also be fixed by giving the type encoding
	// methods (not so when it has them, but half is missing).
	typeFix bool
}

// maxDepth bounds the walk of types that nest without a struct to mark as
// seen (type L []L).
const maxDepth = 32

func newEncodeCheck(qual types.Qualifier) *encodeCheck {
	return &encodeCheck{qual: qual, seen: make(map[types.Type]bool)}
}

func (c *encodeCheck) refuse(what, fix string, typeFix bool) {
	c.refused, c.fix, c.typeFix = what, fix, typeFix
}

func (c *encodeCheck) walk(t types.Type, path string, depth int) {
	if c.refused != "" || depth > maxDepth {
		return
	}
	if _, ok := types.Unalias(t).(*types.TypeParam); ok {
		return
	}
	switch t.Underlying().(type) {
	case *types.Pointer, *types.Interface:
		// The codec looks for encoding methods on what a pointer points
		// to, and an interface value's dynamic type is known at run time
		// only.
	default:
		if m, ok := selfEncoding(t); ok {
			if m.missing != "" {
				ts := types.TypeString(t, c.qual)
				c.refuse(fmt.Sprintf("%s has %s but *%s has no %s", c.subject(t, path), m.enc, ts, m.missing),
					fmt.Sprintf("give *%s %s method", ts, article(m.missing)), false)
			}
			return
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Kind() == types.UnsafePointer {
			c.refuse(path+" is an unsafe.Pointer", "send the data it points to in its place", true)
		}
	case *types.Pointer:
		c.walk(u.Elem(), path, depth+1)
	case *types.Slice:
		c.walk(u.Elem(), path+"[i]", depth+1)
	case *types.Array:
		c.walk(u.Elem(), path+"[i]", depth+1)
	case *types.Map:
		c.walk(u.Key(), path+" (a key)", depth+1)
		c.walk(u.Elem(), path+"[k]", depth+1)
	case *types.Chan:
		c.refuse(path+" is a chan", "put an mp.Queue in its place, which travels and works in the other process", true)
	case *types.Signature:
		c.refuse(path+" is a func", "send data that names the work in its place, and look the function up in the other process", true)
	case *types.Struct:
		if c.seen[t] {
			return
		}
		c.seen[t] = true
		exported := 0
		for f := range u.Fields() {
			if !f.Exported() {
				continue // skipped by the codec, as by encoding/gob
			}
			exported++
			c.walk(f.Type(), path+"."+f.Name(), depth+1)
		}
		if u.NumFields() > 0 && exported == 0 && c.refused == "" {
			c.refuse(c.subject(t, path)+" has no exported field (nothing of it would arrive)", "export the fields to send", true)
		}
	}
}

// subject names the part at path, with its type when the path does not.
func (c *encodeCheck) subject(t types.Type, path string) string {
	if ts := types.TypeString(t, c.qual); ts != path {
		return fmt.Sprintf("%s (%s)", path, ts)
	}
	return path
}

// selfMethods are the methods by which a type encodes itself, in the order
// the codec prefers them (encoding/gob's): an encoding method on the value
// or the pointer, and the decoding method on the pointer.
var selfMethods = [...]struct {
	enc, dec   string
	encI, decI *types.Interface
}{
	{"GobEncode", "GobDecode", encoder("GobEncode"), decoder("GobDecode")},
	{"MarshalBinary", "UnmarshalBinary", encoder("MarshalBinary"), decoder("UnmarshalBinary")},
	{"MarshalText", "UnmarshalText", encoder("MarshalText"), decoder("UnmarshalText")},
}

// selfMethod is the pair of methods a type encodes itself with; missing
// names the decoding method when the type lacks it, which the codec refuses.
type selfMethod struct{ enc, missing string }

// selfEncoding reports whether t or *t has one of the encoding methods the
// codec prefers to its own encoding.
func selfEncoding(t types.Type) (selfMethod, bool) {
	ptr := types.NewPointer(t)
	for _, m := range selfMethods {
		if !types.Implements(t, m.encI) && !types.Implements(ptr, m.encI) {
			continue
		}
		if !types.Implements(ptr, m.decI) {
			return selfMethod{enc: m.enc, missing: m.dec}, true
		}
		return selfMethod{enc: m.enc}, true
	}
	return selfMethod{}, false
}

var (
	byteSlice = types.NewSlice(types.Typ[types.Byte])
	errorType = types.Universe.Lookup("error").Type()
)

// encoder is interface{ name() ([]byte, error) }.
func encoder(name string) *types.Interface {
	res := types.NewTuple(types.NewParam(0, nil, "", byteSlice), types.NewParam(0, nil, "", errorType))
	return oneMethod(name, types.NewSignatureType(nil, nil, nil, nil, res, false))
}

// decoder is interface{ name([]byte) error }.
func decoder(name string) *types.Interface {
	params := types.NewTuple(types.NewParam(0, nil, "", byteSlice))
	res := types.NewTuple(types.NewParam(0, nil, "", errorType))
	return oneMethod(name, types.NewSignatureType(nil, nil, nil, params, res, false))
}

func oneMethod(name string, sig *types.Signature) *types.Interface {
	return types.NewInterfaceType([]*types.Func{types.NewFunc(0, nil, name, sig)}, nil).Complete()
}
