package mp_test

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/mp"
)

// Manager files that are foreign, corrupt or truncated under their users.

func writeShm(t *testing.T, name string, data []byte, mode os.FileMode) {
	t.Helper()
	path, err := arena.NamedPath(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestManagerForeignFiles(t *testing.T) {
	name := managerName(t)
	for _, c := range []struct {
		what string
		data []byte
		mode os.FileMode
		want error
	}{
		{"empty", nil, 0o600, mp.ErrIncomplete},
		{"zeroed", make([]byte, arena.MinSize), 0o600, mp.ErrIncomplete},
		{"text", []byte(strings.Repeat("not an arena\n", 10000)), 0o600, mp.ErrCorrupt},
		{"short magic", []byte("MPRACE\x00A"), 0o600, mp.ErrCorrupt},
		{"readable by others", []byte("MPRACE\x00A"), 0o644, mp.ErrCorrupt},
	} {
		writeShm(t, name, c.data, c.mode)
		if _, err := mp.OpenManager(name); !errors.Is(err, c.want) {
			t.Errorf("%s file: OpenManager: %v, want %v", c.what, err, c.want)
		}
	}
	if _, err := mp.OpenManager(name + "-missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenManager of no file: %v, want fs.ErrNotExist", err)
	}
	for _, bad := range []string{"", ".hidden", "a/b", "../x", strings.Repeat("x", 201)} {
		if _, err := mp.NewManager(bad); err == nil {
			t.Errorf("NewManager(%q) succeeded", bad)
		}
	}
}

// A Manager whose bytes were scribbled on gives errors, never a crash.
func TestManagerCorruptFile(t *testing.T) {
	name := managerName(t)
	m, err := mp.NewManager(name, mp.WithManagerSize(1<<22))
	if err != nil {
		t.Fatal(err)
	}
	d, err := mp.ManagedDict[string, string](m, "d")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := d.Set(strconv.Itoa(i), strings.Repeat("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := mp.ManagedList[int](m, "l")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := l.Append(i); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	path, _ := arena.NamedPath(name)
	image, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	used := arena.DataStart + 64<<10
	r := rand.New(rand.NewPCG(5, 6))
	var errs int
	for round := range 300 {
		bad := append([]byte(nil), image...)
		for range 1 + r.IntN(64) {
			bad[arena.DataStart+r.IntN(used-arena.DataStart)] = byte(r.Uint32())
		}
		if round%10 == 0 {
			bad[r.IntN(4096)] ^= 0xff // the arena header
		}
		writeShm(t, name, bad, 0o600)
		if exerciseManager(name) != nil {
			errs++
		}
	}
	t.Logf("%d of 300 corrupted images gave errors, none crashed", errs)
	if errs == 0 {
		t.Fatal("no corruption was detected")
	}
}

func exerciseManager(name string) error {
	m, err := mp.OpenManager(name)
	if err != nil {
		return err
	}
	defer m.Close()
	errs := []error{}
	if d, err := mp.ManagedDict[string, string](m, "d"); err != nil {
		errs = append(errs, err)
	} else {
		_, err := d.Items()
		errs = append(errs, err, d.Set("x", "y"))
		_, _, err = d.Get("7")
		errs = append(errs, err)
		_, err = d.Delete("8")
		errs = append(errs, err)
	}
	if l, err := mp.ManagedList[int](m, "l"); err != nil {
		errs = append(errs, err)
	} else {
		_, err := l.Items()
		errs = append(errs, err, l.Append(1))
		_, _, err = l.Pop()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// A Manager's file truncated under a process that is changing it gives that
// process ErrCorrupt, never SIGBUS; so does a file shrunk and grown again.
func TestManagerTruncatedUnderChurn(t *testing.T) {
	bin := buildChild(t)
	for _, size := range []int64{0, 64 << 10} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			name, m := newManager(t, mp.WithManagerSize(8<<20))
			if _, err := mp.ManagedDict[string, int64](m, "churn"); err != nil {
				t.Fatal(err)
			}
			n, err := mp.ManagedInt[int64](m, "n", 1)
			if err != nil {
				t.Fatal(err)
			}
			l, err := mp.ManagedLock(m, "l")
			if err != nil {
				t.Fatal(err)
			}
			child := exec.Command(bin, "churn", name, "churn")
			lines := startLine(t, child)
			expectLine(t, lines, "churning", 10*time.Second)
			time.Sleep(100 * time.Millisecond)
			path, err := arena.NamedPath(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
			if size != 0 {
				os.Truncate(path, 8<<20) // grown again: zeros where the data was
			}
			expectLine(t, lines, "corrupt", 10*time.Second)
			if err := child.Wait(); err != nil {
				t.Fatalf("the churning process: %v", err)
			}
			if size == 0 {
				checkTruncatedHandles(t, m, n, l)
			}
		})
	}
}

// checkTruncatedHandles uses this process's handles of a Manager whose file
// was truncated to nothing: errors wrap ErrCorrupt, and methods without an
// error panic with one, instead of the process dying of SIGBUS.
func checkTruncatedHandles(t *testing.T, m *mp.Manager, n *mp.Int[int64], l *mp.Lock) {
	t.Helper()
	if err := l.LockContext(context.Background()); !errors.Is(err, mp.ErrCorrupt) {
		t.Errorf("LockContext on a truncated Manager: %v, want ErrCorrupt", err)
	}
	if _, err := mp.ManagedDict[string, int64](m, "other"); !errors.Is(err, mp.ErrCorrupt) {
		t.Errorf("ManagedDict on a truncated Manager: %v, want ErrCorrupt", err)
	}
	for what, f := range map[string]func(){
		"Load": func() { n.Load() }, "Add": func() { n.Add(1) }, "Lock": l.Lock, "TryLock": func() { l.TryLock() },
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, mp.ErrCorrupt) {
					t.Errorf("%s on a truncated Manager panicked with %v, want an error wrapping ErrCorrupt", what, err)
				}
			}()
			f()
		}()
	}
}
