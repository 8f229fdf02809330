// Package lockcontext defines an Analyzer that checks the errors of
// LockContext on runtime/mp locks.
//
// # Analyzer lockcontext
//
// lockcontext: report code that may run without the lock LockContext was
// asked for
//
// LockContext on a runtime/mp lock (mp.Lock, and the own lock of Value,
// Array, Dict and List) returns nil or ErrOwnerDead with the lock held, and
// the context's error without it. The check reports:
//
//   - the error dropped (assigned to _ or not used): when the context ends
//     first, the code after it runs without the lock, and its Unlock panics or
//     releases a lock another process holds;
//   - code that needs the lock (its Unlock, deferred or not, or an operation
//     of the handle whose own lock it is) reached on a path where the error
//     was not checked, or where it is known to be an error other than
//     ErrOwnerDead (a log-and-continue);
//   - err == mp.ErrOwnerDead, which is never true because LockContext wraps
//     the error: the fix uses errors.Is.
//
// Paths are followed through the function's control flow graph, narrowing
// what the error can be at err != nil, err == nil and errors.Is tests. When
// the error is handed to code the check cannot follow (a helper deciding on
// it, a variable merged with others), it is trusted.
package lockcontext
