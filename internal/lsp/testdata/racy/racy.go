// Package racy is a small user of runtime/mp for the language server's tests.
package racy

import (
	"fmt"

	"github.com/mprace/mprace/runtime/mp"
)

// Inc adds one to the shared counter, racily.
func Inc(c *mp.Int[int64]) {
	c.Store(c.Load() + 1)
}

// Show prints the counter with a verb that gopls's printf check reports.
func Show(c *mp.Int[int64]) {
	fmt.Printf("%s\n", c.Load())
}
