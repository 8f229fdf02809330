package mp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// managerName returns a name no other test or test run uses, and removes
// the Manager of that name when the test ends.
func managerName(t *testing.T) string {
	t.Helper()
	name := "test-" + strconv.Itoa(os.Getpid()) + "-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	t.Cleanup(func() {
		if err := mp.UnlinkManager(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
	})
	return name
}

// newManager makes a Manager for the test, closed and removed at its end.
func newManager(t *testing.T, opts ...mp.ManagerOption) (string, *mp.Manager) {
	t.Helper()
	name := managerName(t)
	m, err := mp.NewManager(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return name, m
}

// buildChild builds testdata/mpchild, a separately started program that
// opens Managers by name, once for all the tests (TestMain removes it).
func buildChild(t *testing.T) string {
	t.Helper()
	childOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mpchild")
		if err != nil {
			childErr = err
			return
		}
		childDir = dir
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "mpchild"), "./testdata/mpchild").CombinedOutput()
		if err != nil {
			childErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if childErr != nil {
		t.Fatalf("build mpchild: %v", childErr)
	}
	return filepath.Join(childDir, "mpchild")
}

var (
	childOnce sync.Once
	childDir  string
	childErr  error
)

func TestManagerSeparateProgramsCountExactly(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	const procs, each = 4, 2000
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			if out, err := exec.Command(bin, "incr", name, "counts", "hits", strconv.Itoa(each)).CombinedOutput(); err != nil {
				t.Errorf("mpchild incr: %v\n%s", err, out)
			}
		})
		wg.Go(func() {
			if out, err := exec.Command(bin, "append", name, "log", strconv.Itoa(each/4)).CombinedOutput(); err != nil {
				t.Errorf("mpchild append: %v\n%s", err, out)
			}
		})
	}
	wg.Wait()
	// The children made both objects by name; this process finds them.
	d, err := mp.ManagedDict[string, int64](m, "counts")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok, err := d.Get("hits"); err != nil || !ok || n != procs*each {
		t.Fatalf(`counts["hits"] = %d, %v, %v; want %d`, n, ok, err, procs*each)
	}
	l, err := mp.ManagedList[string](m, "log")
	if err != nil {
		t.Fatal(err)
	}
	items, err := l.Items()
	if err != nil || len(items) != procs*each/4 {
		t.Fatalf("log has %d items (%v), want %d", len(items), err, procs*each/4)
	}
	seen := map[string]bool{}
	for _, s := range items {
		if seen[s] {
			t.Fatalf("log holds %q twice", s)
		}
		seen[s] = true
	}
	names, err := m.Names()
	if err != nil || len(names) != 2 {
		t.Fatalf("Names = %q, %v; want counts and log", names, err)
	}
}

func TestManagerLockHolderKilled(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	d, err := mp.ManagedDict[string, int64](m, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(bin, "lock", name, "jobs")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		child.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if d.TryLock() {
		t.Fatal("TryLock succeeded while the child holds the lock")
	}
	child.Process.Kill()
	child.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.LockContext(ctx); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("LockContext after the holder was killed: %v, want ErrOwnerDead", err)
	}
	t.Logf("took the lock over %v after the kill", time.Since(start))
	d.Unlock()
	if v, err := d.Update("done", func(v int64) int64 { return v + 1 }); err != nil || v != 1 {
		t.Fatalf("Update after recovery = %d, %v", v, err)
	}
	if pid, ok, err := d.Get("holder"); err != nil || !ok || pid != int64(child.Process.Pid) {
		t.Fatalf(`Get("holder") = %d, %v, %v; want the child's pid %d`, pid, ok, err, child.Process.Pid)
	}
}

func TestManagerCreatorDiedWhileCreating(t *testing.T) {
	bin := buildChild(t)
	name := managerName(t)
	err := exec.Command(bin, "die-creating", name).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("die-creating: %v, want exit status 7", err)
	}
	if _, err := mp.OpenManager(name); !errors.Is(err, mp.ErrIncomplete) {
		t.Fatalf("OpenManager of a half-made Manager: %v, want ErrIncomplete", err)
	}
	if _, err := mp.NewManager(name); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("NewManager over a half-made Manager: %v, want fs.ErrExist", err)
	}
	if err := mp.UnlinkManager(name); err != nil {
		t.Fatal(err)
	}
	m, err := mp.NewManager(name)
	if err != nil {
		t.Fatalf("NewManager after UnlinkManager: %v", err)
	}
	m.Close()
}

func TestManagerNamesAndTypes(t *testing.T) {
	name, m := newManager(t)
	if _, err := mp.NewManager(name); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second NewManager: %v, want fs.ErrExist", err)
	}
	d, err := mp.ManagedDict[string, int](m, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set("a", 1); err != nil {
		t.Fatal(err)
	}
	again, err := mp.ManagedDict[string, int](m, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := again.Get("a"); err != nil || !ok || v != 1 {
		t.Fatalf("the Dict found by name has a = %d, %v, %v", v, ok, err)
	}
	if _, err := mp.ManagedDict[string, string](m, "jobs"); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Fatalf("ManagedDict with other types: %v, want ErrTypeMismatch", err)
	}
	if _, err := mp.ManagedList[int](m, "jobs"); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Fatalf("ManagedList over a Dict: %v, want ErrTypeMismatch", err)
	}
	if err := m.Unlink(); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.OpenManager(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenManager after Unlink: %v, want fs.ErrNotExist", err)
	}
	// The unlinked Manager stays usable by those who have it open.
	if v, err := d.Update("a", func(v int) int { return v * 10 }); err != nil || v != 10 {
		t.Fatalf("Update after Unlink = %d, %v", v, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.ManagedDict[string, int](m, "jobs"); err == nil {
		t.Fatal("ManagedDict on a closed Manager succeeded")
	}
}

// A Dict grows until the arena is full, then reports ErrNoSpace and stays
// whole; what Delete frees is used again.
func TestDictFillsArenaThenRecovers(t *testing.T) {
	_, m := newManager(t, mp.WithManagerSize(1<<20))
	d, err := mp.ManagedDict[int, string](m, "big")
	if err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("x", 1000)
	n := 0
	for ; ; n++ {
		err := d.Set(n, value)
		if errors.Is(err, mp.ErrNoSpace) {
			break
		}
		if err != nil {
			t.Fatalf("Set %d: %v", n, err)
		}
		if n > 1<<20 {
			t.Fatal("a 1 MiB arena never filled")
		}
	}
	// Each entry takes a 2 KiB block (the allocator's classes are powers
	// of two), the arena's first 68 KiB are its header and process table,
	// and the table's slots take some: nine tenths of the rest hold values.
	if fit := (1<<20 - 68<<10) / 2048; n < fit*9/10 || d.Len() != n {
		t.Fatalf("full after %d values of 1000 bytes in 1 MiB, Len %d", n, d.Len())
	}
	for i := range 100 {
		if ok, err := d.Delete(i); err != nil || !ok {
			t.Fatalf("Delete(%d) = %v, %v", i, ok, err)
		}
	}
	for i := range 100 {
		if err := d.Set(-1-i, value); err != nil {
			t.Fatalf("Set after Delete freed room: %v", err)
		}
	}
	items, err := d.Items()
	if err != nil || len(items) != n || d.Len() != n {
		t.Fatalf("Items: %d, %v; Len %d; want %d", len(items), err, d.Len(), n)
	}
}

// A Manager holds every shared type by name: a separately started program
// finds the same Lock, Int, Value, Array, IntArray and Queue. (Element types
// are unnamed: a named type's fingerprint includes its package, and two
// programs share one only through a package they both import.)
func TestManagerHoldsEveryType(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	n, err := mp.ManagedInt[int64](m, "int", 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := mp.ManagedValue(m, "value", [2]int32{10})
	if err != nil {
		t.Fatal(err)
	}
	a, err := mp.ManagedArray[[2]int32](m, "array", 3)
	if err != nil {
		t.Fatal(err)
	}
	ia, err := mp.ManagedIntArray[int32](m, "ints", 4)
	if err != nil {
		t.Fatal(err)
	}
	q, err := mp.ManagedQueue[string](m, "queue", mp.WithCapacity(4))
	if err != nil {
		t.Fatal(err)
	}
	l, err := mp.ManagedLock(m, "lock")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put("hello"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "touch-all", name).CombinedOutput(); err != nil {
		t.Fatalf("touch-all: %v\n%s", err, out)
	}
	if got := n.Load(); got != 42 {
		t.Errorf("Int = %d, want 42", got)
	}
	if got := v.Load(); got != ([2]int32{11, 7}) {
		t.Errorf("Value = %v, want {11 7}", got)
	}
	if got := a.Get(2); got != ([2]int32{5, 6}) {
		t.Errorf("Array[2] = %v, want {5 6}", got)
	}
	if got := ia.Get(3); got != 9 {
		t.Errorf("IntArray[3] = %d, want 9", got)
	}
	if s, err := q.TryGet(); err != nil || s != "re: hello" {
		t.Errorf("Queue holds %q, %v; want the child's reply", s, err)
	}
	if !l.TryLock() {
		t.Error("the child left the Manager's Lock held")
	}
	// The same name with another kind or type is refused, never reused.
	if _, err := mp.ManagedValue[int32](m, "value", 0); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("ManagedValue[int32] of a Value[[2]int32] = %v, want ErrTypeMismatch", err)
	}
	if _, err := mp.ManagedArray[[2]int32](m, "array", 4); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("ManagedArray of another length = %v, want ErrTypeMismatch", err)
	}
	if _, err := mp.ManagedLock(m, "queue"); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("ManagedLock of a Queue = %v, want ErrTypeMismatch", err)
	}
	if _, err := mp.ManagedQueue[int](m, "queue"); !errors.Is(err, mp.ErrTypeMismatch) {
		t.Errorf("ManagedQueue[int] of a Queue[string] = %v, want ErrTypeMismatch", err)
	}
}
