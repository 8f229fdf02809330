package accesspath

import (
	"strconv"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// Paths in analysis facts: rooted at a parameter index instead of a value,
// with indexes computed from parameters named by parameter index too.

// Relative rewrites a path rooted at a parameter of fn into a parameter-index
// root, for storing in a fact; indexes computed from parameters (a keyed
// accessor's l.Get(i)) are rewritten the same way. Global paths keep their
// root. It reports false for paths rooted at anything else (locals, results
// of calls).
func Relative(p Path, fn *ssa.Function) (Path, bool) {
	switch p.RootKind {
	case RootGlobal:
		return relativeElems(p, fn), true
	case RootValue:
		for i, prm := range fn.Params {
			if valueID(prm) == p.RootID {
				q := relativeElems(p, fn)
				q.RootKind = RootParam
				q.RootID = strconv.Itoa(i)
				return q, true
			}
		}
	}
	return Path{}, false
}

// paramRef is how an index elem in a fact names the value of parameter i.
func paramRef(i int) string { return "$" + strconv.Itoa(i) + "$" }

func relativeElems(p Path, fn *ssa.Function) Path {
	var elems []Elem
	for k, e := range p.Elems {
		if e.Kind != ElemIndex {
			continue
		}
		name := e.Name
		for i, prm := range fn.Params {
			name = replaceID(name, RootValue+":"+valueID(prm), paramRef(i))
		}
		if name != e.Name {
			if elems == nil {
				elems = append([]Elem(nil), p.Elems...)
			}
			elems[k].Name = name
		}
	}
	if elems != nil {
		p.Elems = elems
	}
	return p
}

// replaceID replaces the value identity id in key, where it stands alone
// (not as the prefix of a longer identity).
func replaceID(key, id, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(key, id)
		if i < 0 {
			b.WriteString(key)
			return b.String()
		}
		end := i + len(id)
		b.WriteString(key[:i])
		if end < len(key) && isHex(key[end]) {
			b.WriteString(id)
		} else {
			b.WriteString(with)
		}
		key = key[end:]
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// Substitute rewrites a parameter-rooted path from a fact into the caller's
// terms, given the arguments of the call (receiver first).
func Substitute(p Path, args []ssa.Value) (Path, bool) {
	p, ok := substituteElems(p, args)
	if !ok {
		return Path{}, false
	}
	if p.RootKind != RootParam {
		return p, p.RootKind == RootGlobal
	}
	i, err := strconv.Atoi(p.RootID)
	if err != nil || i < 0 || i >= len(args) {
		return Path{}, false
	}
	base, ok := Of(args[i])
	if !ok {
		return Path{}, false
	}
	return base.Append(p.Elems...), true
}

// substituteElems puts the caller's index values in place of the
// parameter references of p's index elems.
func substituteElems(p Path, args []ssa.Value) (Path, bool) {
	var elems []Elem
	for k, e := range p.Elems {
		if e.Kind != ElemIndex || !strings.Contains(e.Name, "$") {
			continue
		}
		if elems == nil {
			elems = append([]Elem(nil), p.Elems...)
		}
		for i, a := range args {
			ref := paramRef(i)
			if !strings.Contains(e.Name, ref) {
				continue
			}
			ae := IndexElem(a)
			if e.Name == ref {
				elems[k] = ae
				break
			}
			elems[k].Name = strings.ReplaceAll(elems[k].Name, ref, ae.Name)
		}
		if strings.Contains(elems[k].Name, "$") {
			return Path{}, false // a parameter the call does not pass
		}
	}
	if elems != nil {
		p.Elems = elems
	}
	return p, true
}
