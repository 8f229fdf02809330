package codec

import (
	"fmt"
	"strings"
)

// pathError is an error deep inside a value, with where it happened. Each
// level of nesting adds its step in constant time: wrapping with
// fmt.Errorf at every level would copy the message once per level, and a
// value nested tens of thousands of levels deep (a long linked list) would
// take quadratic time to fail.
type pathError struct {
	steps []string // innermost first
	err   error
}

// at records that err happened in step (a field, an element, a key) of the
// value being encoded or decoded.
func at(err error, step string) error {
	if pe, ok := err.(*pathError); ok {
		pe.steps = append(pe.steps, step)
		return pe
	}
	return &pathError{steps: []string{step}, err: err}
}

// shown is how many steps at each end of a long path the message keeps.
const shown = 8

func (e *pathError) Error() string {
	var b strings.Builder
	n := len(e.steps)
	for i := n - 1; i >= 0; i-- {
		if i == n-1-shown && n > 2*shown {
			fmt.Fprintf(&b, "... (%d levels) ...: ", n-2*shown)
			i = shown
		}
		b.WriteString(e.steps[i])
		b.WriteString(": ")
	}
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *pathError) Unwrap() error { return e.err }
