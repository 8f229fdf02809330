package mp_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/arena"
	"github.com/mprace/mprace/runtime/mp"
)

// A Manager's name taken first by something else: another user's file, a
// symbolic link to a victim, a FIFO, a directory. Creating fails, opening
// is refused without following the link or blocking on the FIFO, and the
// owner can clear the name. (Chown needs root, which CI is.)
func TestProbeManagerNameSquatted(t *testing.T) {
	name := managerName(t)
	path, err := arena.NamedPath(name)
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	for what, squat := range map[string]func() error{
		"another user's file": func() error {
			if err := os.WriteFile(path, []byte("MPRACE"), 0o600); err != nil {
				return err
			}
			return os.Chown(path, 65534, 65534)
		},
		"a symbolic link": func() error { return os.Symlink(victim, path) },
		"a FIFO":          func() error { return syscall.Mkfifo(path, 0o600) },
		"a directory":     func() error { return os.Mkdir(path, 0o700) },
	} {
		if err := squat(); err != nil {
			t.Fatal(err)
		}
		if _, err := mp.NewManager(name); !errors.Is(err, fs.ErrExist) {
			t.Errorf("NewManager over %s: %v, want fs.ErrExist", what, err)
		}
		opened := make(chan error, 1)
		go func() {
			m, err := mp.OpenManager(name)
			if err == nil {
				m.Close()
			}
			opened <- err
		}()
		select {
		case err := <-opened:
			if err == nil {
				t.Errorf("OpenManager opened %s", what)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("OpenManager of %s hangs", what)
		}
		if err := mp.UnlinkManager(name); err != nil {
			t.Errorf("UnlinkManager of %s: %v", what, err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after UnlinkManager: %v", what, err)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious" {
		t.Fatalf("the symbolic link's target now holds %q (%v)", b, err)
	}
	m, err := mp.NewManager(name) // the name is the owner's again
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}
