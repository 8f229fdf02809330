// Package use increments a lib.Counter through its accessors.
package use

import "example.com/m/lib"

// Inc adds one, racily: Get and Set are a Load and a Store.
func Inc(c *lib.Counter) {
	c.Set(c.Get() + 1)
}
