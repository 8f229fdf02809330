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
	Doc:      "report mp.NewValue/NewArray of types with pointers and Queue, Dict, List or worker argument types gob cannot encode",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/rawtype",
	Run:      run,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
}

func init() { report.DefineFlags(&Analyzer.Flags) }

// encoded lists the constructors whose type arguments travel through gob
// when they are not raw, with what fails then.
var encoded = map[string]string{
	"NewQueue":    "the first Put fails",
	"NewDict":     "the first Set fails",
	"ManagedDict": "the first Set fails",
	"NewList":     "the first Append or Set fails",
	"ManagedList": "the first Append or Set fails",
	"NewFunc":     "Start fails to encode the argument",
}

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
		fails, ok := encoded[name]
		if !ok || (name == "NewQueue" && !defaultCodec(pass.TypesInfo, call)) {
			return
		}
		if name == "NewFunc" {
			targs = targs[:1]
		}
		for _, t := range targs {
			if _, _, raw := firstPointer(t, ""); raw {
				continue
			}
			g := &gobCheck{qual: qual, seen: make(map[types.Type]bool)}
			if name == "NewFunc" {
				g.field(t, types.TypeString(t, qual))
			} else {
				g.visit(t, types.TypeString(t, qual))
			}
			switch {
			case g.refused != "":
				rep.Report(call.Pos(), call.End(), "rawtype", fmt.Sprintf(
					"%s: %s travels through encoding/gob, which refuses it: %s, so %s; %s",
					inst, what(name), g.refused, fails, remedy(name, g.noFields)))
				return
			case g.dropped != "":
				rep.Report(call.Pos(), call.End(), "rawtype", fmt.Sprintf(
					"%s: %s travels through encoding/gob, which silently drops %s: it arrives as nil in the "+
						"other process; send what it carries instead, or leave it out of the type", inst, what(name), g.dropped))
				return
			}
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

func what(name string) string {
	switch name {
	case "NewFunc":
		return "the worker's argument"
	case "NewDict", "ManagedDict":
		return "each key and value"
	}
	return "each item"
}

func remedy(name string, noFields bool) string {
	fix := "send plain data in its place"
	if noFields {
		fix = "export the fields to send"
	}
	if name == "NewQueue" {
		return fix + ", or give the Queue its own codec with mp.WithCodec"
	}
	return fix + ", or implement GobEncode and GobDecode"
}

// defaultCodec reports whether a NewQueue call is known to use the default
// codec: every option is a visible WithCapacity or WithByteCapacity call.
func defaultCodec(info *types.Info, call *ast.CallExpr) bool {
	if call.Ellipsis.IsValid() {
		return false
	}
	for _, a := range call.Args {
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
