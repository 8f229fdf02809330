package lockcontext

import (
	"fmt"
	"go/ast"
	"go/token"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/lockerr"
	"github.com/mprace/mprace/passes/internal/report"
	"github.com/mprace/mprace/passes/locks"
)

// Analyzer reports misused LockContext errors; see the package doc.
var Analyzer = &analysis.Analyzer{
	Name:     "lockcontext",
	Doc:      "report dropped LockContext errors and code that needs the lock on paths where LockContext failed",
	URL:      "https://pkg.go.dev/github.com/mprace/mprace/passes/lockcontext",
	Run:      run,
	Requires: []*analysis.Analyzer{buildssa.Analyzer},
}

func run(pass *analysis.Pass) (any, error) {
	rep := report.New(pass)
	for _, fn := range locks.Funcs(pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)) {
		for _, b := range fn.Blocks {
			if t, ok := lockerr.Branch(b); ok && t.Identity {
				if call, ok := t.Err.(*ssa.Call); ok {
					if _, ok := lockerr.Call(call.Common()); ok {
						reportIdentity(rep, t)
					}
				}
			}
			for _, instr := range b.Instrs {
				if call, ok := instr.(*ssa.Call); ok {
					if c, ok := lockerr.Call(call.Common()); ok {
						check(rep, call, c)
					}
				}
			}
		}
	}
	return nil, nil
}

func check(rep *report.Reporter, call *ssa.Call, c catalog.Call) {
	p, ok := accesspath.Of(c.Recv)
	if !ok {
		return
	}
	lock := rep.Receiver(call.Pos(), p)
	if len(*call.Referrers()) == 0 {
		pos, end := span(rep, call.Pos())
		rep.Report(pos, end, "lockcontext", droppedMessage(lock, call))
		return
	}
	if !followed(call) {
		return
	}
	need, o := firstNeed(call, p.Key())
	if need == nil {
		return
	}
	where := rep.Where(call.Pos(), need.Pos())
	what := needName(need, lock)
	var msg string
	if o == lockerr.Any {
		msg = fmt.Sprintf("%s runs whether or not %s.LockContext at %s took the lock: its error is not checked, "+
			"and LockContext returns the context's error without the lock, so this runs unlocked (an Unlock "+
			"then panics, or releases the lock another process holds); stop when "+
			"err != nil && !errors.Is(err, mp.ErrOwnerDead)", what, lock, where)
	} else {
		msg = fmt.Sprintf("%s runs on a path where %s.LockContext at %s returned an error other than "+
			"mp.ErrOwnerDead, so the lock is not held there (an Unlock then panics, or releases the lock another "+
			"process holds); stop on that error: if err != nil && !errors.Is(err, mp.ErrOwnerDead) { return err }",
			what, lock, where)
	}
	pos, end := span(rep, need.Pos())
	rep.Report(pos, end, "lockcontext", msg)
}

// span returns the extent of the call expression whose parenthesis is at
// pos (an SSA call's position), or pos alone.
func span(rep *report.Reporter, pos token.Pos) (token.Pos, token.Pos) {
	if c := rep.CallAt(pos); c != nil {
		return c.Pos(), c.End()
	}
	return pos, pos
}

func droppedMessage(lock string, call *ssa.Call) string {
	if neverDone(call.Common().Args[1]) {
		return fmt.Sprintf("the error of %s.LockContext is dropped: with a context that is never done it "+
			"returns only mp.ErrOwnerDead, which says the previous holder died holding the lock and what it "+
			"guards may be half updated; check for it with errors.Is, or call %s.Lock() if nothing needs repair",
			lock, lock)
	}
	return fmt.Sprintf("the error of %s.LockContext is dropped: when the context ends first it returns the "+
		"context's error without taking the lock, and the code after it runs unlocked (its Unlock then panics, "+
		"or releases the lock another process holds); check it: if err := %s.LockContext(ctx); "+
		"err != nil && !errors.Is(err, mp.ErrOwnerDead) { return err }", lock, lock)
}

// neverDone reports whether ctx is context.Background() or context.TODO().
func neverDone(ctx ssa.Value) bool {
	c, ok := ctx.(*ssa.Call)
	if !ok {
		return false
	}
	fn := c.Call.StaticCallee()
	return fn != nil && fn.Pkg != nil && fn.Pkg.Pkg.Path() == "context" &&
		(fn.Name() == "Background" || fn.Name() == "TODO")
}

// followed reports whether every use of the error is one the walk
// understands: tests, formatting, logging, returning it. An error handed to
// a helper whose answer is used, or merged into another variable, is
// trusted to be handled there.
func followed(v ssa.Value) bool {
	for _, r := range *v.Referrers() {
		switch r := r.(type) {
		case *ssa.BinOp, *ssa.If, *ssa.Return, *ssa.Panic, *ssa.DebugRef:
		case *ssa.ChangeInterface:
			if !followed(r) {
				return false
			}
		case *ssa.MakeInterface:
			if !followed(r) {
				return false
			}
		case *ssa.Store:
			// The slot of a variadic argument (fmt.Errorf("...: %w", err)).
			ia, ok := r.Addr.(*ssa.IndexAddr)
			if !ok {
				return false
			}
			if _, ok := ia.X.(*ssa.Alloc); !ok {
				return false
			}
		case *ssa.Call:
			if !reporting(r) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// reporting reports whether call only tests, wraps, prints or logs an
// error: errors.Is, fmt, log, or any call whose result is unused.
func reporting(call *ssa.Call) bool {
	if len(*call.Referrers()) == 0 {
		return true
	}
	fn := call.Call.StaticCallee()
	if fn == nil || fn.Pkg == nil {
		return false
	}
	switch fn.Pkg.Pkg.Path() {
	case "fmt", "log", "log/slog":
		return true
	case "errors":
		return fn.Name() == "Is"
	}
	return false
}

type item struct {
	b    *ssa.BasicBlock
	from int
	o    lockerr.Outcome
}

// firstNeed follows the paths from call and returns the first instruction
// that needs its lock where the error may be the context's, with what the
// error can be there.
func firstNeed(call *ssa.Call, key string) (ssa.Instruction, lockerr.Outcome) {
	start := 0
	for i, instr := range call.Block().Instrs {
		if instr == call {
			start = i + 1
		}
	}
	seen := make(map[[2]int]bool)
	work := []item{{call.Block(), start, lockerr.Any}}
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		stop := false
		for _, instr := range it.b.Instrs[it.from:] {
			switch op := lockOp(instr, key); {
			case op == catalog.Acquire || op == catalog.TryAcquire:
				stop = true // taken again: a new acquisition
			case op != catalog.None && it.o&lockerr.Failed != 0:
				return instr, it.o
			}
			if _, ok := instr.(*ssa.Return); ok {
				stop = true
			}
			if stop {
				break
			}
		}
		if stop {
			continue
		}
		t, tested := lockerr.Branch(it.b)
		for i, succ := range it.b.Succs {
			o := it.o
			if tested && t.Err == call {
				if i == 0 {
					o &= t.Then
				} else {
					o &= t.Else
				}
			}
			if o == 0 || seen[[2]int{succ.Index, int(o)}] {
				continue
			}
			seen[[2]int{succ.Index, int(o)}] = true
			work = append(work, item{succ, 0, o})
		}
	}
	return nil, 0
}

// lockOp returns what instr does with the lock at key: Acquire or
// TryAcquire when it takes it, Release when it unlocks it (now or deferred),
// Read when it uses the handle whose own lock it is; None otherwise.
func lockOp(instr ssa.Instruction, key string) catalog.Op {
	cc := locks.InPlace(instr)
	if cc == nil {
		return catalog.None
	}
	c, ok := catalog.Classify(cc)
	if !ok {
		if c, ok = catalog.ByName(cc); !ok {
			return catalog.None
		}
	}
	p, ok := accesspath.Of(c.Recv)
	if !ok || p.Key() != key {
		return catalog.None
	}
	switch c.M.Op {
	case catalog.Acquire, catalog.TryAcquire, catalog.Release:
		return c.M.Op
	case catalog.Neutral, catalog.AcquireShared, catalog.ReleaseShared, catalog.TryAcquireShared:
		return catalog.None
	}
	return catalog.Read
}

func needName(instr ssa.Instruction, lock string) string {
	cc, deferred := locks.InPlace(instr), ""
	if _, ok := instr.(*ssa.Defer); ok {
		deferred = "the deferred "
	}
	name := "a call"
	if cc != nil {
		if c, ok := catalog.Classify(cc); ok {
			name = c.Name
		} else if c, ok := catalog.ByName(cc); ok {
			name = c.Name
		}
	}
	return deferred + lock + "." + name
}

// reportIdentity reports err == mp.ErrOwnerDead on a LockContext error, with
// the fix to errors.Is when the file imports errors.
func reportIdentity(rep *report.Reporter, t lockerr.Test) {
	pass := rep.Pass()
	msg := "LockContext wraps mp.ErrOwnerDead (\"mp: Lock: ...\"), so comparing its error with == is never true " +
		"and the dead owner goes unnoticed; use errors.Is(err, mp.ErrOwnerDead)"
	var bin *ast.BinaryExpr
	var file *ast.File
	for _, f := range pass.Files {
		if f.FileStart > t.Pos || t.Pos >= f.FileEnd {
			continue
		}
		file = f
		ast.Inspect(f, func(n ast.Node) bool {
			if b, ok := n.(*ast.BinaryExpr); ok && b.OpPos == t.Pos {
				bin = b
			}
			return bin == nil
		})
	}
	if bin == nil {
		rep.Report(t.Pos, t.Pos, "lockcontext", msg)
		return
	}
	var fixes []analysis.SuggestedFix
	if imports(file, "errors") {
		not := ""
		if bin.Op == token.NEQ {
			not = "!"
		}
		text := fmt.Sprintf("%serrors.Is(%s, %s)", not, rep.Text(bin.X), rep.Text(bin.Y))
		fixes = []analysis.SuggestedFix{{
			Message:   "compare with errors.Is",
			TextEdits: []analysis.TextEdit{{Pos: bin.Pos(), End: bin.End(), NewText: []byte(text)}},
		}}
	}
	rep.Report(bin.Pos(), bin.End(), "lockcontext", msg, fixes...)
}

func imports(f *ast.File, path string) bool {
	for _, imp := range f.Imports {
		if imp.Path.Value == `"`+path+`"` && imp.Name == nil {
			return true
		}
	}
	return false
}
