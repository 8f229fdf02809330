// Package checkthenact defines an Analyzer that reports check-then-act
// races: a write of a shared cell that happens because of a condition
// computed from a read of the same cell, with no single lock held from the
// check through the write.
//
// # Analyzer checkthenact
//
// checkthenact: report a write of a shared cell decided by a read of it outside one critical section
//
// A check and an act are two steps:
//
//	if !ready.Load() {
//		setup()
//		ready.Store(true)
//	}
//
// Two goroutines (or two processes sharing ready through runtime/mp) can both
// see false and both run setup. The write is control-dependent on the read
// (an if, an early return or a loop condition decided by the value read),
// and no exclusive lock acquisition covers both.
//
// The check is silent when one exclusive lock is held from the check through
// the write, for double-checked locking (the cell is checked again under the
// lock that covers the write), for atomic updates (CompareAndSwap makes the
// check and the act one step), for checks of one cell guarding writes of
// another, and where the read value itself flows into the write (that is a
// read-modify-write, reported by the readmodifywrite analyzer instead).
//
// One lock protects the check and the write only from the goroutines that
// take it. When the package also writes the cell holding no lock at all,
//
//	func (n *node) switchLocked(s int32) { // callers hold n.mu
//		if n.state.Load() == closed {
//			return
//		}
//		n.state.Store(s)
//	}
//	func (n *node) Shutdown() { n.state.Swap(closed) }
//
// the Swap can land between the check and the Store, which undoes it: that
// is reported too, naming the unlocked write. Only blind writes count (not
// decided by a read of the cell in their own function, which are judged
// there; not storing the same constant as the locked write), outside
// package initialisation, tests, ...Locked functions and objects the writer
// creates itself.
//
// Fixes: decide with CompareAndSwap (if ready.CompareAndSwap(false, true)
// { setup() }), use sync.Once, or hold one lock from the check through the
// write. A deliberate case is silenced with //mprace:ignore <reason>.
package checkthenact
