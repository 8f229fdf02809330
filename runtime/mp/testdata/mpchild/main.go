// Command mpchild is a separately started program for runtime/mp's Manager
// tests: it opens a Manager by name and does one thing to it.
//
//	mpchild incr MANAGER DICT KEY N      N Updates adding 1 to DICT[KEY]
//	mpchild append MANAGER LIST N        N Appends to LIST
//	mpchild lock MANAGER DICT            take DICT's lock, say "locked", wait to be killed
//	mpchild hold-lock MANAGER LOCK       take the Lock LOCK, say "locked", wait to be killed
//	mpchild wait-lock MANAGER LOCK       say "waiting", take the Lock LOCK, say "got ownerdead" or "got free"
//	mpchild churn MANAGER DICT           say "churning", Set/Get/Delete until an error; say "corrupt" for ErrCorrupt
//	mpchild touch-all MANAGER            use every Managed type by name (see TestManagerHoldsEveryType)
//	mpchild big-value                    a 256 MiB Value: make, load, store (set MPRACE_ARENA_SIZE)
//	mpchild die-creating NAME            die while creating the Manager NAME
//	mpchild skew-put MANAGER DICT        put this build's version of skewJob in DICT["job"] (see skew_v1.go)
//	mpchild skew-get MANAGER DICT        print DICT["job"] as this build's skewJob
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
	if len(args) < 1 {
		return fmt.Errorf("usage: mpchild incr|append|lock|die-creating MANAGER ...")
	}
	if args[0] == "big-value" {
		return bigValue()
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
		for {
			// A sleep, not select {}: the runtime would call a lone
			// blocked goroutine a deadlock and exit, releasing the lock.
			time.Sleep(time.Hour)
		}
	case args[0] == "hold-lock" && len(args) == 3:
		l, err := mp.ManagedLock(m, args[2])
		if err != nil {
			return err
		}
		l.Lock()
		fmt.Println("locked")
		for {
			// A sleep, not select {}: the runtime would call a lone
			// blocked goroutine a deadlock and exit, releasing the lock.
			time.Sleep(time.Hour)
		}
	case args[0] == "churn" && len(args) == 3:
		return churn(m, args[2])
	case args[0] == "touch-all" && len(args) == 2:
		return touchAll(m)
	case args[0] == "skew-put" && len(args) == 3:
		return skewPut(m, args[2])
	case args[0] == "skew-get" && len(args) == 3:
		return skewGet(m, args[2])
	case args[0] == "wait-lock" && len(args) == 3:
		l, err := mp.ManagedLock(m, args[2])
		if err != nil {
			return err
		}
		fmt.Println("waiting")
		err = l.LockContext(context.Background())
		switch {
		case errors.Is(err, mp.ErrOwnerDead):
			fmt.Println("got ownerdead")
		case err == nil:
			fmt.Println("got free")
		default:
			return err
		}
		return nil
	}
	return fmt.Errorf("bad arguments %q", args)
}

// touchAll finds each object TestManagerHoldsEveryType made by its name and
// changes it, so that the test can check that the two programs share them.
func touchAll(m *mp.Manager) error {
	l, err := mp.ManagedLock(m, "lock")
	if err != nil {
		return err
	}
	if !l.TryLock() {
		return errors.New("the Manager's Lock is held")
	}
	n, err := mp.ManagedInt[int64](m, "int", 0)
	if err != nil {
		return err
	}
	n.Add(41)
	v, err := mp.ManagedValue(m, "value", [2]int32{})
	if err != nil {
		return err
	}
	v.Store([2]int32{v.Load()[0] + 1, 7})
	a, err := mp.ManagedArray[[2]int32](m, "array", 3)
	if err != nil {
		return err
	}
	a.Set(2, [2]int32{5, 6})
	ia, err := mp.ManagedIntArray[int32](m, "ints", 4)
	if err != nil {
		return err
	}
	ia.Add(3, 9)
	q, err := mp.ManagedQueue[string](m, "queue")
	if err != nil {
		return err
	}
	got, err := q.Get()
	if err != nil {
		return err
	}
	if err := q.Put("re: " + got); err != nil {
		return err
	}
	l.Unlock()
	return nil
}

type big = [256 << 20]byte

// bigValue uses a Value of 256 MiB, passing it by value as users do. Each
// step is a function of its own, not inlined: a frame holds a copy of the
// value for each call that takes or returns one, and a goroutine's stack can
// grow to 512 MiB at most (it doubles, up to Go's 1 GB limit).
func bigValue() error {
	x := new(big)
	x[0], x[len(x)-1] = 1, 2
	v, err := newBig(x)
	if err != nil {
		return err
	}
	if err := checkBig(v, 0, 1); err != nil {
		return fmt.Errorf("after NewValue: %w", err)
	}
	x[5] = 9
	storeBig(v, x)
	if err := checkBig(v, 5, 9); err != nil {
		return fmt.Errorf("after Store: %w", err)
	}
	// Update's f takes and returns the value: four copies on a stack that
	// ends at 1 GB. It refuses, saying what to do instead.
	if msg := updateBig(v); !strings.Contains(msg, "hold the Value's Lock around Load and Store") {
		return fmt.Errorf("Update of 256 MiB: %q, want a panic saying to use Lock, Load and Store", msg)
	}
	if err := checkBig(v, len(x)-1, 2); err != nil {
		return fmt.Errorf("after Update: %w", err)
	}
	fmt.Println("ok")
	return nil
}

//go:noinline
func newBig(x *big) (*mp.Value[big], error) {
	y := *x // a variable, on the heap: passing *x would copy it to the stack twice
	return mp.NewValue(y)
}

//go:noinline
func storeBig(v *mp.Value[big], x *big) {
	y := *x
	v.Store(y)
}

//go:noinline
func checkBig(v *mp.Value[big], i int, want byte) error {
	if got := v.Load(); got[i] != want {
		return fmt.Errorf("byte %d is %d, want %d", i, got[i], want)
	}
	return nil
}

// updateBig returns what Update panicked with.
//
//go:noinline
func updateBig(v *mp.Value[big]) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	v.Update(func(b big) big { b[7] = 3; return b })
	return ""
}

// churn changes a Dict as fast as it can until an error, which must be
// ErrCorrupt: the test truncates the Manager's file under it.
func churn(m *mp.Manager, name string) error {
	d, err := mp.ManagedDict[string, int64](m, name)
	if err != nil {
		return err
	}
	fmt.Println("churning")
	for i := 0; ; i++ {
		k := strconv.Itoa(i % 1000)
		err := d.Set(k, int64(i))
		if err == nil {
			_, _, err = d.Get(k)
		}
		if err == nil && i%3 == 0 {
			_, err = d.Delete(k)
		}
		if errors.Is(err, mp.ErrCorrupt) {
			fmt.Println("corrupt")
			// Later calls fail the same way, promptly.
			if err := d.Set(k, 1); !errors.Is(err, mp.ErrCorrupt) {
				return fmt.Errorf("Set after the fault: %v, want ErrCorrupt", err)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
