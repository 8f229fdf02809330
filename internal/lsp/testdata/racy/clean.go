package racy

import "github.com/mprace/mprace/runtime/mp"

// Add adds n to the shared counter atomically.
func Add(c *mp.Int[int64], n int64) {
	c.Add(n)
}
