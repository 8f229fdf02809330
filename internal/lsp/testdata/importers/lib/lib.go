// Package lib has a counter whose Get and Set are accessors of a shared cell.
package lib

import "github.com/mprace/mprace/runtime/mp"

// Counter wraps a shared integer.
type Counter struct{ n *mp.Int[int64] }

// Get reads the counter.
func (c *Counter) Get() int64 { return c.n.Load() }

// Set writes the counter.
func (c *Counter) Set(v int64) { c.n.Store(v) }
