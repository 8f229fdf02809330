// Command latemain makes a shared object before calling mp.Main, which
// TestMainCalledLate expects a worker to refuse with a message naming Main.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mprace/mprace/runtime/mp"
)

var noop = mp.NewFunc("latemain.noop", func(context.Context, int) error { return nil })

func main() {
	if _, err := mp.NewLock(); err != nil { // too early: before Main
		fmt.Println("NewLock:", err)
		os.Exit(1)
	}
	mp.Main()
	p, err := noop.Start(context.Background(), 0)
	if err == nil {
		err = p.Join()
	}
	fmt.Println(err)
}
