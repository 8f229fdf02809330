// Package guards defines an Analyzer that finds which struct fields and
// package variables a lock guards.
//
// # Analyzer mpraceguards
//
// mpraceguards: builder pass of the mprace suite; finds the fields and variables a lock guards
//
// It reports nothing. A field or package variable is guarded by a lock when
// the code says so or when the code shows it:
//
//   - declared: a comment on the field or variable, gVisor checklocks'
//     "+checklocks:mu" or a plain "guarded by mu" (or "protected by mu"),
//     where mu is a field of the same struct or a package variable;
//   - inferred: every load and store of it in its package (outside tests
//     and package initialisation) holds the same lock, in either mode of an
//     RWMutex, and at least one store does. Accesses to a value allocated in
//     the same function and not reached through a pointer are writes before
//     the value is shared (a constructor filling in its result) and do not
//     count; nor does a field whose address is passed on, since its
//     accesses are then out of sight.
//
// The lock is named relative to the struct holding the field (mu of the
// same struct, or of the struct that embeds it by value) or is a package
// variable. Each guarded field and variable gets a Guard fact, so a field
// guarded in one package is a guarded cell where another package uses it.
// The cells pass turns the loads and stores of guarded fields into cell
// reads and writes.
package guards
