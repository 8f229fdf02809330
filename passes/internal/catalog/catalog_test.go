package catalog_test

import (
	"go/types"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/mprace/mprace/passes/internal/catalog"
)

// notHandles lists exported types of runtime/mp that are not shared cells or
// locks, each with the reason; any other exported type with methods must be
// in the catalog.
var notHandles = map[string]string{
	"Process":      "a started worker process: Join, Kill and Pid act on the process, not on shared memory",
	"Func":         "a registered worker entry point: Start launches a process, it holds no shared cell",
	"PoolFunc":     "a registered pool function: it holds no shared cell",
	"Pool":         "worker processes fed through private queues: its methods share no cell with the caller",
	"AsyncResult":  "one result of a Pool, held in this process",
	"TaskError":    "an error value",
	"SharedMemory": "a raw block whose typed views are plain slices: no method reads or writes a cell",
}

func loadMP(t *testing.T) *types.Package {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedName}, catalog.MPPath)
	if err != nil {
		t.Fatalf("loading %s: %v", catalog.MPPath, err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("loading %s: %v", catalog.MPPath, pkgs[0].Errors)
	}
	return pkgs[0].Types
}

// TestEveryMPMethodClassified fails when runtime/mp gains an exported type
// or method that the catalog does not classify, or loses one it does.
func TestEveryMPMethodClassified(t *testing.T) {
	pkg := loadMP(t)
	scope := pkg.Scope()
	seen := make(map[string]bool)
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || !tn.Exported() || tn.IsAlias() {
			continue
		}
		if _, isIface := tn.Type().Underlying().(*types.Interface); isIface {
			continue // constraints such as Integer
		}
		mset := types.NewMethodSet(types.NewPointer(tn.Type()))
		key := catalog.MPPath + "." + name
		entry := catalog.Types[key]
		if entry == nil {
			if _, ok := notHandles[name]; !ok && mset.Len() > 0 {
				t.Errorf("runtime/mp type %s has methods but is not in catalog.Types: classify it", name)
			}
			continue
		}
		seen[key] = true
		exported := make(map[string]bool)
		for i := 0; i < mset.Len(); i++ {
			m := mset.At(i).Obj()
			if !m.Exported() {
				continue
			}
			exported[m.Name()] = true
			if c, ok := entry.Methods[m.Name()]; !ok || c.Op == catalog.None {
				t.Errorf("method (*mp.%s).%s is not classified as read, write, atomic update, lock or neutral", name, m.Name())
			}
		}
		for m := range entry.Methods {
			if !exported[m] && !neutralExtra(entry, m) {
				t.Errorf("catalog classifies (*mp.%s).%s, which runtime/mp does not have", name, m)
			}
		}
	}
	for key := range catalog.Types {
		if strings.HasPrefix(key, catalog.MPPath+".") && !seen[key] {
			t.Errorf("catalog has %s, which runtime/mp does not export", key)
		}
	}
}

// neutralExtra: the shared neutral entries (String, Len, Pid, Close...) are
// listed for every handle so that a handle gaining one is classified at once.
func neutralExtra(ty *catalog.Type, m string) bool {
	return ty.Methods[m].Op == catalog.Neutral
}

func TestSyncAtomicTypesClassified(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedTypes | packages.NeedName}, "sync/atomic", "sync")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, p := range pkgs {
		for key, entry := range catalog.Types {
			name, ok := strings.CutPrefix(key, p.PkgPath+".")
			if !ok || strings.Contains(name, "/") {
				continue
			}
			obj := p.Types.Scope().Lookup(name)
			if obj == nil {
				t.Errorf("catalog has %s, which %s does not export", key, p.PkgPath)
				continue
			}
			mset := types.NewMethodSet(types.NewPointer(obj.Type()))
			for i := 0; i < mset.Len(); i++ {
				if m := mset.At(i).Obj(); m.Exported() {
					if _, ok := entry.Methods[m.Name()]; !ok {
						missing = append(missing, key+"."+m.Name())
					}
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("unclassified methods: %v", missing)
	}
}

func TestFunc(t *testing.T) {
	for name, want := range map[string]catalog.Op{
		"LoadInt64": catalog.Read, "StoreUint32": catalog.Write, "AddInt32": catalog.Update,
		"SwapPointer": catalog.Update, "CompareAndSwapUintptr": catalog.Update,
		"AndInt32": catalog.Update, "OrUint64": catalog.Update,
	} {
		if got := catalog.Func("sync/atomic", name).Op; got != want {
			t.Errorf("Func(%s) = %v, want %v", name, got, want)
		}
	}
	if got := catalog.Func("example.com/atomic", "LoadInt64").Op; got != catalog.None {
		t.Errorf("Func outside sync/atomic = %v, want none", got)
	}
}
