// Command mpchild is a separately started program for runtime/mp's Manager
// tests: it opens a Manager by name and does one thing to it.
//
//	mpchild incr MANAGER DICT KEY N      N Updates adding 1 to DICT[KEY]
//	mpchild append MANAGER LIST N        N Appends to LIST
//	mpchild lock MANAGER DICT            take DICT's lock, say "locked", wait to be killed
//	mpchild die-creating NAME            die while creating the Manager NAME
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/mp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mpchild:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: mpchild incr|append|lock|die-creating MANAGER ...")
	}
	if args[0] == "die-creating" {
		_, err := arena.CreateNamed(args[1], arena.MinSize, func(*arena.Arena) error {
			os.Exit(7)
			return nil
		})
		return err
	}
	m, err := mp.OpenManager(args[1])
	if err != nil {
		return err
	}
	defer m.Close()
	switch {
	case args[0] == "incr" && len(args) == 5:
		n, err := strconv.Atoi(args[4])
		if err != nil {
			return err
		}
		d, err := mp.ManagedDict[string, int64](m, args[2])
		if err != nil {
			return err
		}
		for range n {
			if _, err := d.Update(args[3], func(v int64) int64 { return v + 1 }); err != nil {
				return err
			}
		}
		return nil
	case args[0] == "append" && len(args) == 4:
		n, err := strconv.Atoi(args[3])
		if err != nil {
			return err
		}
		l, err := mp.ManagedList[string](m, args[2])
		if err != nil {
			return err
		}
		for i := range n {
			if err := l.Append(fmt.Sprintf("%d-%d", os.Getpid(), i)); err != nil {
				return err
			}
		}
		return nil
	case args[0] == "lock" && len(args) == 3:
		d, err := mp.ManagedDict[string, int64](m, args[2])
		if err != nil {
			return err
		}
		d.Lock()
		if err := d.Set("holder", int64(os.Getpid())); err != nil {
			return err
		}
		fmt.Println("locked")
		select {}
	}
	return fmt.Errorf("bad arguments %q", args)
}
