package mp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/mp"
	"golang.org/x/sys/unix"
)

// Segments shrunk or replaced under a process that churns on every kind of
// object a Manager holds: the churner gets ErrCorrupt, never SIGBUS.

type churnArgs struct {
	Manager string
	Kind    string
	Started *mp.Int[int64]
}

// churnWorker opens the Manager by name, as an unrelated program would, and
// changes one object of kind as fast as it can until something fails. It
// returns nil only for a failure wrapping ErrCorrupt, after checking that
// the next call fails the same way at once.
var churnWorker = mp.NewFunc("mp_test.churnWorker", func(ctx context.Context, a churnArgs) error {
	m, err := mp.OpenManager(a.Manager)
	if err != nil {
		return err
	}
	op, err := churnOp(m, a.Kind)
	if err != nil {
		return err
	}
	a.Started.Add(1)
	for i := 0; ; i++ {
		if first := op(i); first != nil {
			if !errors.Is(first, mp.ErrCorrupt) {
				return fmt.Errorf("%s: %w, want ErrCorrupt", a.Kind, first)
			}
			if err := op(i + 1); !errors.Is(err, mp.ErrCorrupt) {
				return fmt.Errorf("%s after the fault (%v): %v, want ErrCorrupt", a.Kind, first, err)
			}
			return nil
		}
	}
})

// churnOp returns one step of churn on a Manager's object of kind; methods
// without an error panic with one, which the step returns.
func churnOp(m *mp.Manager, kind string) (func(int) error, error) {
	caught := func(f func(int) error) func(int) error {
		return func(i int) (err error) {
			defer func() {
				if r := recover(); r != nil {
					e, ok := r.(error)
					if !ok {
						e = fmt.Errorf("panic: %v", r)
					}
					err = e
				}
			}()
			return f(i)
		}
	}
	switch kind {
	case "List":
		l, err := mp.ManagedList[string](m, kind)
		return caught(func(i int) error {
			if i%2 == 0 {
				return l.Append(strconv.Itoa(i))
			}
			_, _, err := l.Pop()
			return err
		}), err
	case "Queue":
		q, err := mp.ManagedQueue[string](m, kind)
		return caught(func(i int) error {
			if err := q.Put(strings.Repeat("x", i%100)); err != nil {
				return err
			}
			_, err := q.Get()
			return err
		}), err
	case "Value":
		v, err := mp.ManagedValue(m, kind, [16]int64{})
		return caught(func(i int) error {
			v.Update(func(x [16]int64) [16]int64 { x[i%16]++; return x })
			return nil
		}), err
	case "Lock":
		l, err := mp.ManagedLock(m, kind)
		return caught(func(int) error {
			if err := l.LockContext(context.Background()); err != nil {
				return err
			}
			l.Unlock()
			return nil
		}), err
	case "IntArray":
		a, err := mp.ManagedIntArray[int64](m, kind, 1024)
		return caught(func(i int) error { a.Add(i%1024, 1); return nil }), err
	case "Set":
		s, err := mp.ManagedSet[int](m, kind)
		return caught(func(i int) error {
			if err := s.Add(i % 500); err != nil {
				return err
			}
			_, err := s.Remove((i + 250) % 500)
			return err
		}), err
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

// Shrunk, every kind faults and says ErrCorrupt. (Shrunk to nothing and
// grown again, the header's zeros say ErrCorrupt:
// TestManagerTruncatedAndRegrownSaysCorrupt. Cut only past the header and
// grown again, the objects read as zeros, which are valid contents for a
// Lock, an Int or an array of them: they go on unaware. Only the Dict is
// promised to notice that: TestManagerTruncatedUnderChurn.)
func TestProbeShrunkUnderChurnEveryKind(t *testing.T) {
	for _, kind := range []string{"List", "Queue", "Value", "Lock", "IntArray", "Set"} {
		for _, size := range []int64{0, 4096} {
			t.Run(fmt.Sprintf("%s/%d", kind, size), func(t *testing.T) {
				name, m := newManager(t, mp.WithManagerSize(8<<20))
				if _, err := churnOp(m, kind); err != nil { // made here, found there by name
					t.Fatal(err)
				}
				started, err := mp.NewInt[int64](0)
				if err != nil {
					t.Fatal(err)
				}
				p := start(t, churnWorker, churnArgs{Manager: name, Kind: kind, Started: started})
				waitFor(t, "the churner to start", func() bool { return started.Load() == 1 })
				time.Sleep(50 * time.Millisecond)
				path, err := arena.NamedPath(name)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, size); err != nil {
					t.Fatal(err)
				}
				joinWithin(t, p, 30*time.Second)
			})
		}
	}
}

// joinWithin joins p, failing the test if it has not exited within d.
func joinWithin(t *testing.T, p *mp.Process, d time.Duration) {
	t.Helper()
	select {
	case <-p.Done():
		if err := p.Join(); err != nil {
			t.Fatalf("the churning process: %v", err)
		}
	case <-time.After(d):
		p.Kill()
		t.Fatalf("the churning process did not stop within %v", d)
	}
}

// A Manager's file replaced (a new file renamed over its name) leaves its
// users on the old file, untouched; a program that opens the name now
// finds the new file and refuses it.
func TestProbeManagerFileReplaced(t *testing.T) {
	name, m := newManager(t, mp.WithManagerSize(1<<20))
	n, err := mp.ManagedInt[int64](m, "n", 0)
	if err != nil {
		t.Fatal(err)
	}
	path, err := arena.NamedPath(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, junk := range [][]byte{nil, []byte("MPRACE"), make([]byte, 1<<20)} {
		tmp := path + ".junk"
		if err := os.WriteFile(tmp, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		n.Add(1)
		if _, err := mp.OpenManager(name); !errors.Is(err, mp.ErrCorrupt) && !errors.Is(err, mp.ErrIncomplete) {
			t.Errorf("OpenManager of a %d-byte file renamed over the Manager: %v, want ErrCorrupt or ErrIncomplete", len(junk), err)
		}
	}
	if got := n.Load(); got != 3 {
		t.Fatalf("the Int of the replaced Manager holds %d, want 3", got)
	}
}

// The family memfd is sealed against shrinking: no process, not even one
// reaching it through /proc/PID/fd, can pull memory out from under the
// others.
func TestProbeFamilyMemfdCannotShrink(t *testing.T) {
	l, err1 := mp.NewLock()
	held, err2 := mp.NewInt[int32](0)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	p := start(t, holdWorker, holdArgs{l, held})
	waitFor(t, "the worker to take the lock", func() bool { return held.Load() == 1 })
	a, err := arena.Family()
	if err != nil {
		t.Fatal(err)
	}
	info, err := a.File().Stat()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range fds {
		path := fmt.Sprintf("/proc/%d/fd/%s", p.Pid(), e.Name())
		if fi, err := os.Stat(path); err != nil || !os.SameFile(fi, info) {
			continue
		}
		found = true
		for _, size := range []int64{0, 4096} {
			if err := os.Truncate(path, size); !errors.Is(err, unix.EPERM) {
				t.Errorf("truncate %s (the worker's memfd) to %d: %v, want EPERM", path, size, err)
			}
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, 0); err == nil {
			// F_SEAL_SEAL: the seals themselves cannot change.
			if err := unix.Ftruncate(int(f.Fd()), 0); !errors.Is(err, unix.EPERM) {
				t.Errorf("ftruncate through a reopened %s: %v, want EPERM", path, err)
			}
		}
		f.Close()
	}
	if !found {
		t.Fatal("the worker has no descriptor of the family memfd")
	}
	// Still usable on both sides: the lock is taken over when it dies.
	p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.LockContext(ctx); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("LockContext after the worker's death: %v, want ErrOwnerDead", err)
	}
	l.Unlock()
}

// An Update whose Value's lock is zeroed under it (the file shrunk and
// grown again while it ran) panics with ErrCorrupt: it released only the
// lock it took, so the lock found free is damage, not the caller's bug. It
// used to panic with "unlock of unlocked lock", blaming the caller.
func TestProbeUpdateOnZeroedLockSaysCorrupt(t *testing.T) {
	name, m := newManager(t, mp.WithManagerSize(1<<20))
	v, err := mp.ManagedValue(m, "v", [16]int64{})
	if err != nil {
		t.Fatal(err)
	}
	path, err := arena.NamedPath(name)
	if err != nil {
		t.Fatal(err)
	}
	got := panicOf(func() {
		v.Update(func(x [16]int64) [16]int64 {
			os.Truncate(path, 4096)
			os.Truncate(path, 1<<20)
			x[0]++
			return x
		})
	})
	if !strings.Contains(got, mp.ErrCorrupt.Error()) {
		t.Fatalf("Update with its lock zeroed under it panicked with %q, want ErrCorrupt", got)
	}
}

// A Manager's file truncated to nothing and grown back reads as zeros
// without a fault. Its header's magic and id are gone with the rest, so the
// next call on any of its objects says ErrCorrupt instead of taking the
// zeros for the Int's value or the Lock's state.
func TestManagerTruncatedAndRegrownSaysCorrupt(t *testing.T) {
	const size = 8 << 20
	name, m := newManager(t, mp.WithManagerSize(size))
	n, err := mp.ManagedInt[int64](m, "n", 41)
	if err != nil {
		t.Fatal(err)
	}
	q, err := mp.ManagedQueue[int64](m, "q")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put(1); err != nil {
		t.Fatal(err)
	}
	path, err := arena.NamedPath(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	// Zeros read as an empty queue: without the look at the header, Get
	// would wait for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := q.GetContext(ctx); !errors.Is(err, mp.ErrCorrupt) {
		t.Fatalf("Queue.Get after the file was zeroed: %v, want ErrCorrupt", err)
	}
	if got := panicOf(func() { n.Add(1) }); !strings.Contains(got, mp.ErrCorrupt.Error()) {
		t.Fatalf("Int.Add after the file was zeroed panicked with %q, want ErrCorrupt", got)
	}
}
