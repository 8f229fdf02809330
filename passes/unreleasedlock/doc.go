// Package unreleasedlock defines an Analyzer that reports runtime/mp locks
// left held when a function returns on some paths but not others.
//
// # Analyzer unreleasedlock
//
// unreleasedlock: report a runtime/mp lock still held at some returns of the
// function that took it
//
// A runtime/mp lock (mp.Lock, or the own lock of Value, Array, Dict and List)
// is shared by every process of the family. One left held by an early return
// blocks every other process that waits for it until this process dies,
// when the next waiter takes it over and is told ErrOwnerDead.
//
// The check uses the held locks of passes/locks: a lock that the function
// takes itself (Lock, or TryLock and LockContext on their success paths) and
// that is held at some of its returns but released at others is reported at
// each return that leaves it held. A function that returns holding the lock
// at every return is a lock helper, whose caller releases it, and is not
// reported; nor is a function that returns holding it exactly when it
// reports success (a nil error or true) and without it otherwise, such as a
// LockContext or TryLock wrapper.
//
// When the function takes the lock once, at its top level, and every
// release is the statement just before a return (or the function's last
// statement), the suggested fix replaces the releases by a defer of the same
// Unlock right after the Lock: the same thing, on every path.
package unreleasedlock
