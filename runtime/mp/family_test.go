package mp_test

// Tests that start real worker processes sharing objects with this one.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/mp"
)

type incArgs struct {
	Counter *mp.Int[int64]
	Lock    *mp.Lock
	Start   *mp.Int[int32] // workers spin until it is nonzero, so they overlap
	N       int
	Mode    string
}

var incWorker = mp.NewFunc("mp_test.inc", func(ctx context.Context, a incArgs) error {
	for a.Start.Load() == 0 {
	}
	for range a.N {
		switch a.Mode {
		case "lock":
			a.Lock.Lock()
			a.Counter.Store(a.Counter.Load() + 1)
			a.Lock.Unlock()
		case "own-lock":
			a.Counter.Lock()
			a.Counter.Store(a.Counter.Load() + 1)
			a.Counter.Unlock()
		case "add":
			a.Counter.Add(1)
		case "update":
			a.Counter.Update(func(x int64) int64 { return x + 1 })
		default:
			return fmt.Errorf("unknown mode %q", a.Mode)
		}
	}
	return nil
})

// startAll starts n workers of f with the same argument.
func startAll[A any](t testing.TB, f *mp.Func[A], n int, arg A) []*mp.Process {
	t.Helper()
	var ps []*mp.Process
	for range n {
		ps = append(ps, start(t, f, arg))
	}
	return ps
}

func TestProcessesCountExactly(t *testing.T) {
	const procs, n = 4, 3000
	for _, mode := range []string{"lock", "own-lock", "add", "update"} {
		t.Run(mode, func(t *testing.T) {
			c, _ := mp.NewInt[int64](0)
			l, _ := mp.NewLock()
			start, _ := mp.NewInt[int32](0)
			ps := startAll(t, incWorker, procs, incArgs{c, l, start, n, mode})
			start.Store(1)
			joinAll(t, ps)
			if got := c.Load(); got != procs*n {
				t.Fatalf("counter = %d, want %d", got, procs*n)
			}
		})
	}
}

type holdArgs struct {
	Lock *mp.Lock
	Held *mp.Int[int32]
}

// holdWorker takes the lock, says so, and never lets go.
var holdWorker = mp.NewFunc("mp_test.hold", func(ctx context.Context, a holdArgs) error {
	a.Lock.Lock()
	a.Held.Store(1)
	<-ctx.Done()
	return nil
})

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDeadOwnerIsTakenOverWithinASecond(t *testing.T) {
	l, _ := mp.NewLock()
	held, _ := mp.NewInt[int32](0)
	p := startAll(t, holdWorker, 1, holdArgs{l, held})[0]
	waitFor(t, "the worker to take the lock", func() bool { return held.Load() == 1 })
	if l.TryLock() {
		t.Fatal("TryLock succeeded while the worker holds the lock")
	}

	// A waiter already blocked when the holder dies, as in real life.
	got := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { got <- l.LockContext(ctx) }()
	time.Sleep(50 * time.Millisecond)

	killed := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-got
	if d := time.Since(killed); d > time.Second {
		t.Errorf("took %v after the holder died, want < 1s", d)
	}
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("LockContext = %v, want ErrOwnerDead", err)
	}
	l.Unlock()
	if err := p.Join(); err == nil {
		t.Error("Join of a killed worker returned nil")
	}
	// The lock works normally afterwards.
	if err := l.LockContext(ctx); err != nil {
		t.Fatalf("LockContext after recovery: %v", err)
	}
	l.Unlock()
}

func TestLiveHolderKeepsTheLock(t *testing.T) {
	l, _ := mp.NewLock()
	held, _ := mp.NewInt[int32](0)
	ctx, stop := context.WithCancel(context.Background())
	p, err := holdWorker.Start(ctx, holdArgs{l, held})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); p.Join() }()
	waitFor(t, "the worker to take the lock", func() bool { return held.Load() == 1 })
	wait, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	if err := l.LockContext(wait); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockContext while a live process holds it = %v, want DeadlineExceeded", err)
	}
}

type tornArgs struct {
	V    *mp.Value[wide]
	Done *mp.Int[int32]
	N    int64
	Base int64
}

// tornWriter stores values whose eight fields are all equal.
var tornWriter = mp.NewFunc("mp_test.torn", func(ctx context.Context, a tornArgs) error {
	for i := range a.N {
		x := a.Base + i
		a.V.Store(wide{[8]int64{x, x, x, x, x, x, x, x}})
	}
	a.Done.Add(1)
	return nil
})

func TestNoTornReadsAcrossProcesses(t *testing.T) {
	v, _ := mp.NewValue(wide{})
	done, _ := mp.NewInt[int32](0)
	ps := append(startAll(t, tornWriter, 1, tornArgs{v, done, 200000, 0}),
		startAll(t, tornWriter, 1, tornArgs{v, done, 200000, 1 << 40})...)
	loads, changes := 0, 0
	last := wide{}
	for done.Load() < 2 {
		w := v.Load()
		if slices.ContainsFunc(w.A[:], func(x int64) bool { return x != w.A[0] }) {
			t.Fatalf("torn read: %v", w.A)
		}
		if w != last {
			changes++
			last = w
		}
		loads++
	}
	joinAll(t, ps)
	if changes < 2 {
		t.Fatalf("saw only %d distinct values in %d loads: the writers did not overlap the reader", changes, loads)
	}
	t.Logf("%d loads saw %d distinct values, none torn", loads, changes)
}

var crashWorker = mp.NewFunc("mp_test.crash", func(ctx context.Context, a holdArgs) error {
	a.Held.Store(1)
	<-ctx.Done()
	return nil
})

// The family arena is a memfd, which has no name in any file system and
// vanishes with its last user; so a family, crashed or not, leaves nothing
// under /dev/shm.
func TestNothingLeftInDevShm(t *testing.T) {
	l, _ := mp.NewLock()
	held, _ := mp.NewInt[int32](0)
	p := startAll(t, crashWorker, 1, holdArgs{l, held})[0]
	waitFor(t, "the worker to start", func() bool { return held.Load() == 1 })
	p.Kill()
	p.Join()

	a, err := arena.Family()
	if err != nil {
		t.Fatal(err)
	}
	target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", a.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(target, "/memfd:") {
		t.Fatalf("family arena is %s, want a memfd", target)
	}
	arenaInfo, err := a.File().Stat()
	if err != nil {
		t.Fatal(err)
	}
	shm, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range shm {
		if info, err := e.Info(); err == nil && os.SameFile(info, arenaInfo) {
			t.Errorf("the family arena is linked as /dev/shm/%s", e.Name())
		}
	}
}

// A program that makes shared objects before mp.Main has workers that
// cannot see them; the worker refuses at Start, saying to call Main first.
func TestMainCalledLate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "latemain")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/latemain").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("latemain: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "mp.Main was called after this program made shared objects") {
		t.Fatalf("latemain said %q, want the error naming mp.Main", out)
	}
}

var dictWorker = mp.NewFunc("mp_test.dictWorker", func(ctx context.Context, d *mp.Dict[string, int]) error {
	return d.Set("k", 1)
})

// A Manager's handle given to Start fails at Start, saying to open the
// Manager by name, instead of failing in the worker.
func TestStartRefusesManagerHandles(t *testing.T) {
	name, m := newManager(t)
	d, err := mp.ManagedDict[string, int](m, "d")
	if err != nil {
		t.Fatal(err)
	}
	_, err = dictWorker.Start(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "OpenManager") || !strings.Contains(err.Error(), name) {
		t.Fatalf("Start with a Manager's Dict = %v, want an error naming the Manager and OpenManager", err)
	}
	// Any handle of a Manager, in a struct beside family handles, too.
	ml, err := mp.ManagedLock(m, "l")
	if err != nil {
		t.Fatal(err)
	}
	held, err := mp.NewInt[int32](0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = holdWorker.Start(context.Background(), holdArgs{Lock: ml, Held: held})
	if err == nil || !strings.Contains(err.Error(), "OpenManager") || !strings.Contains(err.Error(), name) {
		t.Fatalf("Start with a Manager's Lock in a struct = %v, want an error naming the Manager and OpenManager", err)
	}
	fd, err := mp.NewDict[string, int]()
	if err != nil {
		t.Fatal(err)
	}
	if err := start(t, dictWorker, fd).Join(); err != nil {
		t.Fatalf("a family Dict: %v", err)
	}
}
