package report

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/ssa"

	"github.com/mprace/mprace/passes/internal/accesspath"
	"github.com/mprace/mprace/passes/internal/catalog"
	"github.com/mprace/mprace/passes/internal/cell"
	"github.com/mprace/mprace/passes/internal/flow"
)

// GuardName names the lock that guards the cell of a, as the source writes
// it ("a.mu"), or "its lock" when it has no name in this function.
func (r *Reporter) GuardName(a *cell.Access) string {
	if a.Guard == nil || a.Guard.Lock.IsZero() {
		return "its lock"
	}
	lock := a.Guard.Lock
	if lock.RootKind == a.Cell.RootKind && lock.RootID == a.Cell.RootID {
		lock.RootName = r.rootName(a)
	}
	name := lock.String()
	if name == "" || name[0] == '(' {
		return "its lock"
	}
	return name
}

// GuardedCell names the cell of a guarded access as the source writes it.
func (r *Reporter) GuardedCell(a *cell.Access) string {
	q := a.Cell
	q.RootName = r.rootName(a)
	return q.String()
}

// rootName spells the root of a's cell: as the path has it, unless that is
// a call (token.NewFileSet()) or a temporary ((t5), a type assertion's
// result); then the variable the source names it by, when it is one: the
// innermost name of a field selection, or the argument of an accessor that
// the cell is reached from.
func (r *Reporter) rootName(a *cell.Access) string {
	name := a.Cell.RootName
	if !(strings.HasSuffix(name, "()") || strings.HasPrefix(name, "(")) {
		return name
	}
	if a.Via == nil {
		var x ast.Expr
		if sel := r.selectorAt(a.Pos()); sel != nil {
			x = sel
		} else if ix := r.indexAt(a.Pos()); ix != nil {
			x = ix
		}
		if x != nil {
			for {
				switch e := ast.Unparen(x).(type) {
				case *ast.SelectorExpr:
					x = e.X
					continue
				case *ast.IndexExpr:
					x = e.X
					continue
				case *ast.StarExpr:
					x = e.X
					continue
				case *ast.Ident:
					return e.Name
				}
				return name
			}
		}
		return name
	}
	ci, ok := a.Instr.(ssa.CallInstruction)
	call := r.CallAt(a.Pos())
	if !ok || call == nil {
		return name
	}
	root := a.Cell.RootKind + ":" + a.Cell.RootID
	args := ci.Common().Args
	exprs := call.Args
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok && ci.Common().Signature().Recv() != nil {
		exprs = append([]ast.Expr{sel.X}, call.Args...)
	}
	for j, v := range args {
		p, ok := accesspath.Of(v)
		if !ok || p.RootKind+":"+p.RootID != root || j >= len(exprs) {
			continue
		}
		if id, ok := ast.Unparen(exprs[j]).(*ast.Ident); ok && len(p.Elems) == 0 {
			return id.Name
		}
	}
	return name
}

// GuardedOp words a guarded access: "read at line 12:7", or "read by
// Account.Balance at line 12:7" for an accessor.
func (r *Reporter) GuardedOp(a *cell.Access, at *cell.Access) string {
	verb := "read"
	if a.Op == catalog.Write {
		verb = "written"
	}
	if a.Via != nil {
		verb += " by " + accessorName(a)
	}
	return verb + " at " + r.Where(r.AccessPos(a), at.Pos())
}

// AccessPos returns where a guarded access is written: the start of the
// selector a.balance (go/ssa places field accesses at the field name) or of
// the index expression a.m[k] (placed at its bracket), or the call of an
// accessor.
func (r *Reporter) AccessPos(a *cell.Access) token.Pos {
	if a.Via != nil {
		return a.Pos()
	}
	if sel := r.selectorAt(a.Pos()); sel != nil {
		return sel.Pos()
	}
	if ix := r.indexAt(a.Pos()); ix != nil {
		return ix.Pos()
	}
	return a.Pos()
}

// AccessRange returns the source range of a guarded access, for a
// diagnostic.
func (r *Reporter) AccessRange(a *cell.Access) (token.Pos, token.Pos) {
	if call := r.CallAt(a.Pos()); call != nil {
		return call.Pos(), call.End()
	}
	if sel := r.selectorAt(a.Pos()); sel != nil {
		return sel.Pos(), sel.End()
	}
	if ix := r.indexAt(a.Pos()); ix != nil {
		return ix.Pos(), ix.End()
	}
	if st, ok := a.Instr.(*ssa.Store); ok {
		if g, ok := st.Addr.(*ssa.Global); ok {
			return a.Pos(), a.Pos() + token.Pos(len(g.Name()))
		}
	}
	return a.Pos(), a.Pos()
}

// selectorAt returns the selector expression whose selected name is at pos.
func (r *Reporter) selectorAt(pos token.Pos) *ast.SelectorExpr {
	r.indexNodes()
	return r.sels[pos]
}

// indexAt returns the index expression whose opening bracket is at lbrack
// (where go/ssa places map lookups and updates and element addresses).
func (r *Reporter) indexAt(lbrack token.Pos) *ast.IndexExpr {
	r.indexNodes()
	return r.indexes[lbrack]
}

func accessorName(a *cell.Access) string {
	op := Op(a)
	if i := len(op) - len(" ("+a.Method+")"); i > 0 {
		return op[:i]
	}
	return op
}

// Section words the critical section of the guard that a guarded access is
// in: where the lock was taken in this function, that the accessor takes it
// itself, or that the function's callers hold it.
func (r *Reporter) Section(a *cell.Access, at *cell.Access) string {
	lock := r.GuardName(a)
	if acq := r.acquisition(a); acq != nil && callerHolds(a) {
		return fmt.Sprintf("%s locked at %s", lock, r.Where(acq.Pos(), r.AccessPos(at)))
	}
	if a.Via != nil && a.Guard.Inner != cell.NotHeld {
		return accessorName(a) + " holds " + lock + " inside"
	}
	return lock + " held by the callers"
}

// Sections words the critical sections of a guarded read and write that are
// not one: when the same Lock call begins both (the lock was released and
// taken again on the way, in a loop), the write's is said to be retaken.
func (r *Reporter) Sections(rd, w *cell.Access) (string, string) {
	rs, ws := r.Section(rd, w), r.Section(w, w)
	if rs == ws {
		if acq := r.acquisition(w); acq != nil && acq == r.acquisition(rd) {
			ws = r.GuardName(w) + " released and taken again since"
		}
	}
	return rs, ws
}

// callerHolds reports whether the function making a holds a's guard there.
func callerHolds(a *cell.Access) bool {
	for _, h := range a.Locks.Held() {
		if h.Path.Key() == a.Guard.Lock.Key() {
			return true
		}
	}
	return false
}

// acquisition returns the call that takes the guard of a, in a's function,
// nearest before a on every path to it; nil when the lock is held some
// other way (by the callers, by a lock helper).
func (r *Reporter) acquisition(a *cell.Access) ssa.CallInstruction {
	if a.Guard == nil || a.Guard.Lock.IsZero() {
		return nil
	}
	key := a.Guard.Lock.Key()
	var best ssa.CallInstruction
	for _, b := range a.Instr.Parent().Blocks {
		for _, instr := range b.Instrs {
			call, ok := instr.(*ssa.Call)
			if !ok || !flow.Before(call, a.Instr) {
				continue
			}
			c, ok := catalog.Classify(call.Common())
			if !ok {
				c, ok = catalog.ByName(call.Common())
			}
			if !ok || (c.M.Op != catalog.Acquire && c.M.Op != catalog.AcquireShared) {
				continue
			}
			if p, ok := accesspath.Of(c.Recv); ok && p.Key() == key && (best == nil || flow.Before(best, call)) {
				best = call
			}
		}
	}
	return best
}

// ReadLockFix turns the read lock of a guarded cell's guard into the write
// lock, RLock into Lock and each RUnlock of it into Unlock, when the section
// is one function's: a's function takes the read lock once and calls
// nothing of its own package or through an interface while it could be
// held, so the write lock cannot be taken again inside.
func (r *Reporter) ReadLockFix(a *cell.Access) (analysis.SuggestedFix, bool) {
	acq := r.acquisition(a)
	if acq == nil || a.Via != nil {
		return analysis.SuggestedFix{}, false
	}
	key := a.Guard.Lock.Key()
	var edits []analysis.TextEdit
	for _, b := range a.Instr.Parent().Blocks {
		for _, instr := range b.Instrs {
			ci, ok := instr.(ssa.CallInstruction)
			if !ok {
				continue
			}
			cc := ci.Common()
			c, isLock := catalog.Classify(cc)
			if !isLock {
				c, isLock = catalog.ByName(cc)
			}
			if isLock && c.M.Op.IsLock() {
				p, ok := accesspath.Of(c.Recv)
				if !ok || p.Key() != key {
					continue
				}
				switch {
				case c.M.Op == catalog.AcquireShared && ci == acq:
					if e, ok := r.rename(ci, "Lock"); ok {
						edits = append(edits, e)
						continue
					}
				case c.M.Op == catalog.ReleaseShared:
					if e, ok := r.rename(ci, "Unlock"); ok {
						edits = append(edits, e)
						continue
					}
				}
				return analysis.SuggestedFix{}, false
			}
			if _, ok := instr.(*ssa.Call); ok && !r.foreign(cc) {
				return analysis.SuggestedFix{}, false
			}
		}
	}
	if len(edits) < 2 {
		return analysis.SuggestedFix{}, false
	}
	return analysis.SuggestedFix{
		Message:   "Hold " + r.GuardName(a) + " for writing (Lock instead of RLock)",
		TextEdits: edits,
	}, true
}

// rename replaces the method name of the call at ci.
func (r *Reporter) rename(ci ssa.CallInstruction, name string) (analysis.TextEdit, bool) {
	call := r.CallAt(ci.Pos())
	if _, ok := ci.(*ssa.Defer); ok {
		call = r.deferredCall(ci.Pos())
	}
	if call == nil {
		return analysis.TextEdit{}, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return analysis.TextEdit{}, false
	}
	return analysis.TextEdit{Pos: sel.Sel.Pos(), End: sel.Sel.End(), NewText: []byte(name)}, true
}

// deferredCall returns the call of the defer statement at pos (go/ssa
// places a Defer at the keyword).
func (r *Reporter) deferredCall(pos token.Pos) *ast.CallExpr {
	file := r.fileOf(pos)
	if file == nil {
		return nil
	}
	path, _ := astutil.PathEnclosingInterval(file, pos, pos)
	for _, n := range path {
		if d, ok := n.(*ast.DeferStmt); ok && d.Defer == pos {
			return d.Call
		}
	}
	return nil
}

// foreign reports whether a call is a builtin or a static call of another
// package's function: one that cannot take this package's locks again
// (short of a callback into it, which the fix accepts as rare).
func (r *Reporter) foreign(cc *ssa.CallCommon) bool {
	if _, ok := cc.Value.(*ssa.Builtin); ok {
		return true
	}
	callee := cc.StaticCallee()
	return callee != nil && callee.Pkg != nil && callee.Pkg.Pkg != r.pass.Pkg && !cc.IsInvoke()
}

// MergeFix joins the two critical sections of a guarded read r and write w
// made in one function into one, by deleting the Unlock that ends the
// read's section and the Lock that starts the write's, when both are
// statements of one block and what runs between them cannot leave the block
// (return, break, goto, panic aside) nor take the lock again (no calls but
// builtins, conversions and other packages' functions).
func (r *Reporter) MergeFix(rd, w *cell.Access) (analysis.SuggestedFix, bool) {
	none := analysis.SuggestedFix{}
	if rd.Via != nil || w.Via != nil || rd.Instr.Parent() != w.Instr.Parent() || w.HeldMode() != cell.HeldExclusive {
		return none, false
	}
	racq, wacq := r.acquisition(rd), r.acquisition(w)
	if racq == nil || wacq == nil || racq == wacq {
		return none, false
	}
	lockCall := r.CallAt(wacq.Pos())
	file := r.fileOf(wacq.Pos())
	if lockCall == nil || file == nil {
		return none, false
	}
	path, _ := astutil.PathEnclosingInterval(file, lockCall.Pos(), lockCall.End())
	if len(path) < 3 {
		return none, false
	}
	lockStmt, ok := path[1].(*ast.ExprStmt)
	if !ok || lockStmt.X != lockCall {
		return none, false
	}
	list := stmtList(path[2])
	li := indexOf(list, lockStmt)
	if li < 1 || li+1 >= len(list) {
		return none, false
	}
	recv := receiverText(lockCall, "Lock")
	if recv == "" {
		return none, false
	}
	ui := -1
	for i := li - 1; i >= 0; i-- {
		if es, ok := list[i].(*ast.ExprStmt); ok {
			if c, ok := es.X.(*ast.CallExpr); ok && receiverText(c, "Unlock") == recv {
				ui = i
				break
			}
		}
		if !r.stays(list[i]) {
			return none, false
		}
	}
	if ui < 0 || ui+1 >= len(list) || rd.Pos() >= list[ui].Pos() || racq.Pos() >= rd.Pos() ||
		w.Pos() <= lockStmt.End() || r.commentBetween(file, list[ui].Pos(), list[li+1].Pos()) {
		return none, false
	}
	lock := r.GuardName(w)
	return analysis.SuggestedFix{
		Message: "Hold " + lock + " from the read through the write",
		TextEdits: []analysis.TextEdit{
			{Pos: list[ui].Pos(), End: list[ui+1].Pos()},
			{Pos: lockStmt.Pos(), End: list[li+1].Pos()},
		},
	}, true
}

// receiverText returns the receiver of a call x.name() as written, or "".
func receiverText(c *ast.CallExpr, name string) string {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name || len(c.Args) != 0 {
		return ""
	}
	return types.ExprString(sel.X)
}

// stays reports whether a statement runs to its end without leaving its
// block, and calls nothing that could take this package's locks.
func (r *Reporter) stays(s ast.Stmt) bool {
	ok := true
	ast.Inspect(s, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ReturnStmt, *ast.BranchStmt, *ast.GoStmt, *ast.DeferStmt, *ast.FuncLit, *ast.LabeledStmt,
			*ast.SelectStmt, *ast.SendStmt:
			ok = false
		case *ast.CallExpr:
			if !r.harmless(n) {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// harmless reports whether a call is a conversion, a builtin other than
// panic, or a call of another package's function or method.
func (r *Reporter) harmless(c *ast.CallExpr) bool {
	if tv, ok := r.pass.TypesInfo.Types[c.Fun]; ok && tv.IsType() {
		return true
	}
	var id *ast.Ident
	switch f := ast.Unparen(c.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return false
	}
	switch obj := r.pass.TypesInfo.Uses[id].(type) {
	case *types.Builtin:
		return obj.Name() != "panic"
	case *types.Func:
		sig := obj.Type().(*types.Signature)
		if sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
			return false
		}
		return obj.Pkg() != nil && obj.Pkg() != r.pass.Pkg
	}
	return false
}

func stmtList(parent ast.Node) []ast.Stmt {
	switch p := parent.(type) {
	case *ast.BlockStmt:
		return p.List
	case *ast.CaseClause:
		return p.Body
	case *ast.CommClause:
		return p.Body
	}
	return nil
}

func indexOf(list []ast.Stmt, s ast.Stmt) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
