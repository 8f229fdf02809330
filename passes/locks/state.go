package locks

import "github.com/mprace/mprace/passes/internal/lockstate"

// The state of locks at a program point is defined in
// passes/internal/lockstate, so that shared internals can hold it; these
// names are this pass's vocabulary for it.
type (
	// Held is one lock known to be held.
	Held = lockstate.Held
	// Set is the state of locks at one program point.
	Set = lockstate.Set
)

// SharedExclusive returns an exclusive lock acquisition held at both a and b,
// if there is one: the two points are then inside one critical section.
func SharedExclusive(a, b *Set) (Held, bool) { return lockstate.SharedExclusive(a, b) }
