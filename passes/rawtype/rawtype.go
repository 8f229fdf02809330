package rawtype

import (
	"fmt"
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/mprace/mprace/passes/internal/mpcall"
	"github.com/mprace/mprace/passes/internal/report"
)

// Analyzer reports runtime/mp handles of refused types; see the package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "rawtype",
	Doc:      "report mp.NewValue/NewArray of types with pointers, and Queue, Dict, List, Pipe or worker types runtime/mp cannot encode",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/rawtype",
	Run:      run,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
}

func init() { report.DefineFlags(&Analyzer.Flags) }

// travel is how one type argument of a constructor travels when the codec
// encodes it: what travels, and what fails when the codec refuses it.
type travel struct{ what, fails string }

// encodedCall describes a constructor whose type arguments runtime/mp encodes
// in its own format (runtime/internal/codec).
type encodedCall struct {
	args []travel // per type argument
	// opts is the index of the first QueueOption argument, -1 for none: a
	// codec given there replaces the default one.
	opts int
	// always: the codec encodes raw types too, rather than copying them.
	always bool
}

var encoded = map[string]encodedCall{
	"NewQueue":         {opts: 0, args: []travel{{"each item travels to other processes", "the first Put fails"}}},
	"NewJoinableQueue": {opts: 0, args: []travel{{"each item travels to other processes", "the first Put fails"}}},
	"ManagedQueue":     {opts: 2, args: []travel{{"each item travels to other processes", "the first Put fails"}}},
	"NewPipe":          {opts: 1, args: []travel{{"each message travels to the other end", "the first Send fails"}}},
	"NewDict":          {opts: -1, args: dictArgs},
	"ManagedDict":      {opts: -1, args: dictArgs},
	"NewList":          {opts: -1, args: listArgs},
	"ManagedList":      {opts: -1, args: listArgs},
	"NewFunc": {opts: -1, always: true, args: []travel{
		{"the worker's argument travels to the worker process", "Start fails to encode it"}}},
	"NewPoolFunc": {opts: -1, args: []travel{
		{"each input travels to the pool's workers", "every task fails with a *TaskError (encode input)"},
		{"each result travels back from the pool's workers", "every task fails with a *TaskError (encode result) once the function has run"}}},
}

var (
	dictArgs = []travel{
		{"each key travels to other processes", "the first Set fails"},
		{"each value travels to other processes", "the first Set fails"},
	}
	listArgs = []travel{{"each item travels to other processes", "the first Append or Set fails"}}
)

func run(pass *analysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	rep := report.New(pass)
	qual := types.RelativeTo(pass.Pkg)
	insp.Preorder([]ast.Node{(*ast.CallExpr)(nil)}, func(n ast.Node) {
		call := n.(*ast.CallExpr)
		name := mpcall.Func(pass.TypesInfo, call)
		targs := mpcall.TypeArgs(pass.TypesInfo, call)
		if name == "" || len(targs) == 0 {
			return
		}
		inst := fmt.Sprintf("mp.%s[%s]", name, typeList(targs, qual))
		switch name {
		case "NewValue", "NewArray":
			t := targs[0]
			if path, kind, ok := firstPointer(t, types.TypeString(t, qual)); !ok {
				rep.Report(call.Pos(), call.End(), "rawtype", fmt.Sprintf(
					"%s: %s is %s, which has no meaning in another process, so %s fails with mp.ErrPointers; "+
						"%s holds numbers, booleans, and arrays and structs of them only: "+
						"use a Queue, Dict or List, which encode their items", inst, path, article(kind), name, article(name[3:])))
			}
			return
		}
		enc, ok := encoded[name]
		if !ok || (enc.opts >= 0 && !defaultCodec(pass.TypesInfo, call, enc.opts)) {
			return
		}
		for i, t := range targs[:min(len(targs), len(enc.args))] {
			if _, _, raw := firstPointer(t, ""); raw && !enc.always {
				continue
			}
			c := newEncodeCheck(qual)
			c.walk(t, types.TypeString(t, qual), 0)
			if c.refused == "" {
				continue
			}
			rep.Report(call.Pos(), call.End(), "rawtype", fmt.Sprintf(
				"%s: %s in runtime/mp's item encoding, which refuses it: %s, so %s; %s",
				inst, enc.args[i].what, c.refused, enc.args[i].fails, remedy(pass.Pkg, name, t, c)))
			return
		}
	})
	return nil, nil
}

func article(noun string) string {
	switch noun[0] {
	case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':
		return "an " + noun
	}
	return "a " + noun
}

func typeList(ts []types.Type, qual types.Qualifier) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += types.TypeString(t, qual)
	}
	return s
}

// remedy is the fix for what c refuses in t, and the alternatives: the
// constructor's own codec, or methods that encode t, when t is declared in
// pkg, where they can be added.
func remedy(pkg *types.Package, name string, t types.Type, c *encodeCheck) string {
	if encoded[name].opts >= 0 {
		holder := "Queue"
		if name == "NewPipe" {
			holder = "Pipe"
		}
		return fmt.Sprintf("%s, or give the %s its own codec with mp.WithCodec", c.fix, holder)
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && c.typeFix && n.Obj().Pkg() == pkg {
		return fmt.Sprintf("%s, or give %s MarshalBinary and UnmarshalBinary methods that encode it", c.fix, n.Obj().Name())
	}
	return c.fix
}

// defaultCodec reports whether a call is known to use the default codec:
// every option, from argument opts on, is a visible WithCapacity or
// WithByteCapacity call.
func defaultCodec(info *types.Info, call *ast.CallExpr, opts int) bool {
	if call.Ellipsis.IsValid() {
		return false
	}
	for _, a := range call.Args[min(opts, len(call.Args)):] {
		c, ok := ast.Unparen(a).(*ast.CallExpr)
		if !ok {
			return false
		}
		if n := mpcall.Func(info, c); n != "WithCapacity" && n != "WithByteCapacity" {
			return false
		}
	}
	return true
}
