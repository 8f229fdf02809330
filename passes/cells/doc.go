// Package cells defines an Analyzer that finds the accesses to shared cells
// in every function: which values are shared cells, and where each is read,
// written or atomically updated.
//
// # Analyzer mpracecells
//
// mpracecells: builder pass of the mprace suite; finds accesses to shared cells
//
// It reports nothing. A cell is a handle of runtime/mp (Value, Int, Array,
// IntArray, one element of an array), a sync/atomic value (Int32, Int64,
// Uint32, Uint64, Uintptr, Bool, Pointer[T], Value) or a location used with
// the sync/atomic functions (atomic.LoadInt64(&x), atomic.StoreInt64(&x, v)).
// Cells are identified by canonical access path (see accesspath), and their
// operations are classified by one table (see catalog).
//
// Functions that read a cell and return the value, or write a cell with a
// value computed from their parameters, are accessors: they are summarised
// in an Accessor fact, and a call of an accessor is an access of the cell in
// the caller, in the caller's terms, so a race split across helpers (even in
// other packages) is seen where it happens.
package cells
