// Package readmodifywrite defines an Analyzer that reports lost updates:
// a value read from a shared cell flows into a write of the same cell with no
// single lock held from the read through the write.
//
// # Analyzer readmodifywrite
//
// readmodifywrite: report read-modify-write of a shared cell that is not atomic
//
// Two atomic steps are not one atomic step:
//
//	counter.Store(counter.Load() + 1)
//
// Between the Load and the Store another goroutine, or another process
// sharing the cell through runtime/mp, can store a new value; the Store then
// overwrites it and that update is lost. The race detector does not report
// this (each step is atomic), and go vet's atomic pass only sees
// x = atomic.AddInt64(&x, 1).
//
// The check follows the value read through arithmetic, conversions,
// composite literals and calls into the written value, including reads and
// writes made by accessor functions in other packages. It is silent for
// atomic updates (Add, CompareAndSwap, Swap, And, Or, Update), for
// CompareAndSwap loops, for a read of one cell written to another, and when
// one exclusive lock acquisition covers both the read and the write.
//
// Fixes: counter.Add(1) for integer cells; v.Update(func(x T) T { ... }) for
// runtime/mp values and arrays; for a Dict or List, a Get statement followed
// by the Set of its value,
//
//	n, _, _ := d.Get(k)
//	d.Set(k, n+1)
//
// becomes d.Update(k, func(n V) V { return n + 1 }) when nothing else uses n
// or the Get's other results. Otherwise the message names the handle's
// atomic method (d.Update(k, ...), c.Add(...)), a CompareAndSwap loop, or a
// lock.
// A deliberate case is silenced with //mprace:ignore <reason> on the line.
package readmodifywrite
