// Command pool is the first example of Python's multiprocessing
// documentation in Go:
//
//	from multiprocessing import Pool
//
//	def f(x):
//	    return x*x
//
//	if __name__ == '__main__':
//	    with Pool(5) as p:
//	        print(p.map(f, [1, 2, 3]))
//
// It prints [1 4 9]. With -n N it squares 1..N instead and prints their sum,
// and -kill K makes the worker that gets input K kill itself, to show that
// only that input fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"

	"github.com/mprace/mprace/runtime/mp"
)

var (
	n    = flag.Int("n", 0, "square 1..n and print the sum (0: the documentation's [1, 2, 3])")
	kill = flag.Int("kill", 0, "the worker that gets this input kills itself with SIGKILL")
)

// f runs in the pool's worker processes. Like the worker functions of
// mp.NewFunc, it is registered at package level.
var f = mp.NewPoolFunc("pool.f", func(ctx context.Context, x int) (int, error) {
	if x == killAt && x != 0 {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return x * x, nil
})

// killAt is -kill's value in the workers, which do not parse flags: the
// pool's initializer (Python's initializer and initargs) sets it in each.
var (
	killAt  int
	setKill = mp.NewFunc("pool.setKill", func(ctx context.Context, k int) error {
		killAt = k
		return nil
	})
)

func main() {
	mp.Main() // first thing: in a worker process, serves the pool and exits
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pool:", err)
		os.Exit(1)
	}
}

func run() error {
	p, err := mp.NewPool(f, 5, mp.WithInitializer(setKill, *kill))
	if err != nil {
		return err
	}
	defer p.Terminate() // Python's with block terminates the pool on the way out

	if *n == 0 {
		out, err := p.Map(context.Background(), []int{1, 2, 3}, 0)
		if err != nil {
			return err
		}
		fmt.Println(out)
		return nil
	}
	in := make([]int, *n)
	for i := range in {
		in[i] = i + 1
	}
	out, err := p.Map(context.Background(), in, 0)
	var te *mp.TaskError
	if errors.As(err, &te) {
		fmt.Printf("input %d failed: %v\n", te.Input, te.Err)
	} else if err != nil {
		return err
	}
	sum := 0
	for _, y := range out {
		sum += y
	}
	fmt.Printf("sum of squares: %d\n", sum)
	return nil
}
