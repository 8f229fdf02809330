// Package locks defines an Analyzer that computes, for every call in every
// function, the set of locks that must be held there.
//
// # Analyzer mpracelocks
//
// mpracelocks: builder pass of the mprace suite; computes held locks
//
// It reports nothing. Its result maps each call instruction to the locks
// held on every path reaching it (a must-hold lockset): mp.Lock, the own
// locks of runtime/mp handles, sync.Mutex, sync.RWMutex (read locks are kept
// apart: they do not guard writes) and Lock/Unlock through interfaces such as
// sync.Locker. Each held lock remembers the acquisition that took it, so a
// lock released and taken again between two accesses is not one critical
// section. Locks taken on only some paths are dropped where paths merge;
// TryLock holds the lock on the branch where it returned true; deferred
// unlocks run at function exit and so leave the lock held throughout.
// Closures called in place (and deferred closures) start with the locks of
// their caller; goroutines start with none.
//
// Functions that acquire or release locks for their caller (lock helpers,
// such as func (s *S) lock() { s.mu.Lock() }) are summarised in a Summary
// fact, so helpers in other packages are understood too.
package locks
