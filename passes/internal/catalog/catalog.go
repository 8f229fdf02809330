// Package catalog classifies the operations of shared cells and locks: the
// handles of runtime/mp, the sync/atomic types and functions, and the sync
// locks. It is the one table the mprace passes consult, and the one a test
// checks against runtime/mp so the two cannot drift apart.
package catalog

import (
	"go/types"
	"strings"
)

// Op is what a method or function does to the cell or lock it is called on.
type Op int

const (
	None             Op = iota // not a cell or lock operation
	Read                       // reads the cell (or element)
	Write                      // overwrites the cell (or element)
	Update                     // atomic read-modify-write: never part of a race we report
	ReadAll                    // reads every element
	WriteAll                   // overwrites every element
	Neutral                    // metadata, encoding, identity: touches no shared state we model
	Acquire                    // takes the lock exclusively
	AcquireShared              // takes the lock for reading (does not guard writes)
	Release                    // releases an exclusive lock
	ReleaseShared              // releases a shared lock
	TryAcquire                 // takes the lock exclusively when it returns true
	TryAcquireShared           // takes the lock for reading when it returns true
)

var opNames = [...]string{"none", "read", "write", "atomic update", "read (all elements)",
	"write (all elements)", "neutral", "lock", "read lock", "unlock", "read unlock", "try lock", "try read lock"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op?"
}

// IsLock reports whether o changes a lock.
func (o Op) IsLock() bool { return o >= Acquire }

// Method classifies one method of a type in Types.
type Method struct {
	Op Op
	// Index is the position (after the receiver) of the argument naming the
	// element or key that is accessed, or -1 when the whole cell is.
	Index int
	// Value is the position (after the receiver) of the written value for
	// Write, or -1.
	Value int
	// Size: the operation may also change how many entries the container
	// holds (a Dict's Set inserts), which its Len reads.
	Size bool
	// OnePermit is what the operation does on a semaphore of one permit,
	// where it is a lock operation; Op (Neutral) is what it does on any
	// other, which two holders can be inside at once. Only passes/locks
	// tells them apart (OnePermit there); every other pass sees Op.
	OnePermit Op
}

// Type describes a cell or lock type.
type Type struct {
	Methods map[string]Method
	// Integer cells have atomic Add, so c.Store(c.Load()+d) is fixed by c.Add(d).
	Integer bool
	// Elements: Get/Set address one element (arrays) or key (dicts).
	Elements bool
	// Updater: the type has Update(func(T) T) (or Update(i, func(T) T)).
	Updater bool
}

func m(op Op) Method           { return Method{Op: op, Index: -1, Value: -1} }
func w(value int) Method       { return Method{Op: Write, Index: -1, Value: value} }
func elem(op Op, i int) Method { return Method{Op: op, Index: i, Value: -1} }
func elemw(i, v int) Method    { return Method{Op: Write, Index: i, Value: v} }

// permit is a semaphore operation: neutral, a lock operation on a semaphore
// of one permit.
func permit(op Op) Method { mm := m(Neutral); mm.OnePermit = op; return mm }

// sized marks an element operation that may insert or remove the element.
func sized(mm Method) Method { mm.Size = true; return mm }

// MPPath is the import path of the runtime/mp package.
const MPPath = "github.com/mprace/mprace/runtime/mp"

// handleLock are the methods of a handle's own lock, which guards the handle.
var handleLock = map[string]Method{
	"Lock": m(Acquire), "Unlock": m(Release), "TryLock": m(TryAcquire), "LockContext": m(Acquire),
}

var neutral = map[string]Method{
	"GobEncode": m(Neutral), "GobDecode": m(Neutral), "String": m(Neutral),
	"Len": m(Neutral), "Pid": m(Neutral), "Close": m(Neutral),
}

func merge(ms ...map[string]Method) map[string]Method {
	out := make(map[string]Method)
	for _, x := range ms {
		for k, v := range x {
			out[k] = v
		}
	}
	return out
}

// Types is the classification table, keyed by "importpath.TypeName".
//
// To add a type: add an entry here listing every exported method with its
// Op (and the argument positions of the element index or key and of the
// written value), set Integer/Elements/Updater as they apply, and run
// `go test ./passes/internal/catalog`: the test fails while any exported
// method of a runtime/mp type is missing here. A method that touches no
// shared state (encoding, metadata) is classified Neutral explicitly; an
// operation that reads and writes atomically (Put, Pop, Update...) is Update.
var Types = map[string]*Type{
	// TryLockErr holds the lock when it returns nil or ErrOwnerDead: the
	// lock pass takes it on the edges of the tests of its error
	// (passes/internal/lockerr).
	MPPath + ".Lock": {Methods: merge(handleLock, neutral, map[string]Method{"TryLockErr": m(TryAcquire)})},
	MPPath + ".Value": {Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Load": m(Read), "Store": w(0), "Update": m(Update),
	})},
	MPPath + ".Int": {Integer: true, Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Load": m(Read), "Store": w(0), "Update": m(Update),
		"Add": m(Update), "CompareAndSwap": m(Update), "Swap": m(Update), "And": m(Update), "Or": m(Update),
	})},
	MPPath + ".Array": {Elements: true, Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Get": elem(Read, 0), "Set": elemw(0, 1), "Update": elem(Update, 0),
		"CopyTo": m(ReadAll), "CopyFrom": m(WriteAll),
	})},
	MPPath + ".IntArray": {Elements: true, Integer: true, Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Get": elem(Read, 0), "Set": elemw(0, 1), "Update": elem(Update, 0),
		"CopyTo": m(ReadAll), "CopyFrom": m(WriteAll),
		"Add": elem(Update, 0), "CompareAndSwap": elem(Update, 0), "Swap": elem(Update, 0),
	})},
	// Every Queue operation is one atomic step on the shared ring: Put and
	// Get are atomic updates of its contents. Len reads them, so a Put or
	// Get decided by a Len (if q.Len() > 0 { q.Get() }) is a check-then-act.
	MPPath + ".Queue": {Methods: merge(neutral, map[string]Method{
		"Put": m(Update), "PutContext": m(Update), "TryPut": m(Update),
		"Get": m(Update), "GetContext": m(Update), "TryGet": m(Update),
		"Len": m(Read),
	})},
	// Dict and List: Get and Set address one key or index, and Update is
	// their read-modify-write. Delete overwrites its key. Append inserts
	// past anything read and Pop reads and removes in one step under the
	// container's lock, so both are atomic updates of the whole. Len reads
	// the whole: an insert it decides is a check-then-act. Items is a
	// snapshot.
	MPPath + ".Dict": {Elements: true, Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Get": elem(Read, 0), "Set": sized(elemw(0, 1)), "Delete": sized(elem(Write, 0)),
		"Update": sized(elem(Update, 0)), "Items": m(ReadAll), "Len": m(Read),
	})},
	MPPath + ".List": {Elements: true, Updater: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Get": elem(Read, 0), "Set": elemw(0, 1), "Update": elem(Update, 0),
		"Append": m(Update), "Pop": m(Update), "Items": m(ReadAll), "Len": m(Read),
	})},
	// A Set's members are its cells: Has reads one, Add and Remove write
	// it, AddIfAbsent is the atomic check-then-act.
	MPPath + ".Set": {Elements: true, Methods: merge(handleLock, neutral, map[string]Method{
		"Has": elem(Read, 0), "Add": elem(Write, 0), "Remove": elem(Write, 0), "AddIfAbsent": elem(Update, 0),
		"Items": m(ReadAll), "All": m(ReadAll),
	})},
	MPPath + ".JoinableQueue": {Methods: merge(neutral, map[string]Method{
		"Put": m(Update), "PutContext": m(Update), "TryPut": m(Update),
		"Get": m(Update), "GetContext": m(Update), "TryGet": m(Update),
		"TaskDone": m(Update), "Join": m(Neutral), "Failed": m(Neutral),
	})},
	MPPath + ".Conn": {Methods: merge(neutral, map[string]Method{
		"Send": m(Update), "SendContext": m(Update), "Recv": m(Update), "RecvContext": m(Update), "Poll": m(Neutral),
	})},
	// An RLock is a lock. A Semaphore is one only when it has one permit:
	// with more, two holders are inside at once, and taking Acquire as a
	// lock would hide their races. An Event's flag is a cell:
	// if !e.IsSet() { e.Set() } is a check-then-act. Waiting, notifying and
	// a Barrier touch no cell the passes model.
	MPPath + ".RLock": {Methods: merge(handleLock, neutral)},
	MPPath + ".Semaphore": {Methods: merge(neutral, map[string]Method{
		"Acquire": permit(Acquire), "TryAcquire": permit(TryAcquire), "Release": permit(Release), "Value": m(Neutral),
	})},
	MPPath + ".Event": {Methods: merge(neutral, map[string]Method{
		"IsSet": m(Read), "Set": m(Write), "Clear": m(Write), "Wait": m(Neutral),
	})},
	MPPath + ".Condition": {Methods: merge(neutral, map[string]Method{
		"Lock": m(Acquire), "Unlock": m(Release),
		"Wait": m(Neutral), "WaitFor": m(Neutral), "Notify": m(Neutral), "NotifyAll": m(Neutral),
	})},
	MPPath + ".Barrier": {Methods: merge(neutral, map[string]Method{
		"Wait": m(Neutral), "Abort": m(Neutral), "Reset": m(Neutral), "Broken": m(Neutral), "Parties": m(Neutral),
	})},
	// A Manager only names and maps containers; it holds no cell itself.
	MPPath + ".Manager": {Methods: merge(neutral, map[string]Method{
		"Name": m(Neutral), "Names": m(Neutral), "Unlink": m(Neutral),
	})},

	"sync/atomic.Int32":   atomicInt(),
	"sync/atomic.Int64":   atomicInt(),
	"sync/atomic.Uint32":  atomicInt(),
	"sync/atomic.Uint64":  atomicInt(),
	"sync/atomic.Uintptr": atomicInt(),
	"sync/atomic.Bool": {Methods: map[string]Method{
		"Load": m(Read), "Store": w(0), "Swap": m(Update), "CompareAndSwap": m(Update),
	}},
	"sync/atomic.Pointer": {Methods: map[string]Method{
		"Load": m(Read), "Store": w(0), "Swap": m(Update), "CompareAndSwap": m(Update),
	}},
	"sync/atomic.Value": {Methods: map[string]Method{
		"Load": m(Read), "Store": w(0), "Swap": m(Update), "CompareAndSwap": m(Update),
	}},

	// sync.Map: each key is a cell. LoadOrStore, LoadAndDelete, Swap and
	// the Compare forms decide and act in one step.
	"sync.Map": {Elements: true, Methods: map[string]Method{
		"Load": elem(Read, 0), "Store": sized(elemw(0, 1)), "Delete": sized(elem(Write, 0)),
		"LoadOrStore": sized(elem(Update, 0)), "LoadAndDelete": sized(elem(Update, 0)),
		"Swap": sized(elem(Update, 0)), "CompareAndSwap": elem(Update, 0),
		"CompareAndDelete": sized(elem(Update, 0)), "Range": m(ReadAll), "Clear": m(WriteAll),
	}},

	"sync.Mutex": {Methods: map[string]Method{
		"Lock": m(Acquire), "Unlock": m(Release), "TryLock": m(TryAcquire),
	}},
	"sync.RWMutex": {Methods: map[string]Method{
		"Lock": m(Acquire), "Unlock": m(Release), "TryLock": m(TryAcquire),
		"RLock": m(AcquireShared), "RUnlock": m(ReleaseShared), "TryRLock": m(TryAcquireShared),
		"RLocker": m(Neutral),
	}},
}

func atomicInt() *Type {
	return &Type{Integer: true, Methods: map[string]Method{
		"Load": m(Read), "Store": w(0), "Add": m(Update), "Swap": m(Update),
		"CompareAndSwap": m(Update), "And": m(Update), "Or": m(Update),
	}}
}

// TypeKey returns the table key of a (possibly pointer, possibly
// instantiated) named type, or "".
func TypeKey(t types.Type) string {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return ""
	}
	obj := n.Origin().Obj()
	if obj.Pkg() == nil {
		return ""
	}
	return obj.Pkg().Path() + "." + obj.Name()
}

// Lookup returns the table entry for t and the classification of its method
// name, if t is in the table and the method is classified.
func Lookup(t types.Type, method string) (*Type, Method, bool) {
	ty := Types[TypeKey(t)]
	if ty == nil {
		return nil, Method{}, false
	}
	mm, ok := ty.Methods[method]
	return ty, mm, ok
}

// Func classifies a sync/atomic package-level function such as LoadInt64 or
// StoreUint32. The cell is the pointer in the first argument, which plays
// the receiver's part: argument positions in the result count after it.
func Func(pkgPath, name string) Method {
	if pkgPath != "sync/atomic" {
		return m(None)
	}
	switch {
	case strings.HasPrefix(name, "Load"):
		return m(Read)
	case strings.HasPrefix(name, "Store"):
		return w(0)
	case strings.HasPrefix(name, "Add"), strings.HasPrefix(name, "Swap"),
		strings.HasPrefix(name, "CompareAndSwap"), strings.HasPrefix(name, "And"),
		strings.HasPrefix(name, "Or"):
		return m(Update)
	}
	return m(None)
}

// IntegerFunc reports whether a sync/atomic function family (LoadInt64 ...)
// has an Add form, so StoreX(&x, LoadX(&x)+d) is fixed by AddX(&x, d).
func IntegerFunc(name string) (suffix string, ok bool) {
	for _, pre := range []string{"Load", "Store"} {
		if s, found := strings.CutPrefix(name, pre); found {
			switch s {
			case "Int32", "Int64", "Uint32", "Uint64", "Uintptr":
				return s, true
			}
		}
	}
	return "", false
}
