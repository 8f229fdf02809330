package arena

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testName(t *testing.T) string {
	name := "arena-test-" + strconv.Itoa(os.Getpid()) + "-" + t.Name()
	t.Cleanup(func() { UnlinkNamed(name) })
	return name
}

func TestCreateNamedFailedInitRemovesName(t *testing.T) {
	name := testName(t)
	boom := errors.New("boom")
	if _, err := CreateNamed(name, MinSize, func(*Arena) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("CreateNamed = %v, want the init error", err)
	}
	if _, err := OpenNamed(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenNamed after a failed init: %v, want fs.ErrNotExist", err)
	}
	path, _ := NamedPath(name)
	dir, _ := NamedDir()
	matches, _ := os.ReadDir(dir)
	for _, e := range matches {
		if len(e.Name()) > len("mprace-"+name) && e.Name()[:len("mprace-"+name)] == "mprace-"+name {
			t.Errorf("left behind %s (the name was %s)", e.Name(), path)
		}
	}
}

func TestNamedArenaIsPrivateAndNamed(t *testing.T) {
	name := testName(t)
	a, err := CreateNamed(name, MinSize, func(*Arena) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	path, _ := NamedPath(name)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	if !a.IsNamed(name) {
		t.Fatal("IsNamed = false for the arena's own name")
	}
	if _, err := CreateNamed(name, MinSize, func(*Arena) error { return nil }); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateNamed: %v, want fs.ErrExist", err)
	}
	if err := UnlinkNamed(name); err != nil {
		t.Fatal(err)
	}
	if a.IsNamed(name) {
		t.Fatal("IsNamed = true after the name was removed")
	}
}

// An opener waits while the creator is still initializing, rather than
// reading a half-made arena.
func TestOpenNamedWaitsForCreator(t *testing.T) {
	name := testName(t)
	inInit := make(chan struct{})
	release := make(chan struct{})
	created := make(chan error, 1)
	go func() {
		a, err := CreateNamed(name, MinSize, func(*Arena) error {
			close(inInit)
			<-release
			return nil
		})
		if err == nil {
			a.Close()
		}
		created <- err
	}()
	<-inInit
	opened := make(chan error, 1)
	go func() {
		a, err := OpenNamed(name)
		if err == nil {
			a.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("OpenNamed returned %v while the creator was initializing", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	// Both ends are in this process, which cannot map one arena twice at
	// once; what matters is that the open came after the creation.
	<-opened
}

func TestNamedDirFollowsXDGRuntimeDir(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	t.Setenv(RuntimeDirEnv, dir)
	name := testName(t)
	a, err := CreateNamed(name, MinSize, func(*Arena) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(filepath.Join(dir, "mprace-"+name)); err != nil {
		t.Fatalf("the arena is not in $XDG_RUNTIME_DIR: %v", err)
	}
	if _, err := os.Stat(filepath.Join(SharedDir, "mprace-"+name)); err == nil {
		t.Fatal("the arena is in /dev/shm too")
	}
	if err := UnlinkNamed(name); err != nil {
		t.Fatal(err)
	}
	// A runtime directory others can write is refused, not used.
	os.Chmod(dir, 0o777)
	if _, err := CreateNamed(name, MinSize, func(*Arena) error { return nil }); err == nil || !strings.Contains(err.Error(), RuntimeDirEnv) {
		t.Fatalf("CreateNamed in a world-writable runtime directory: %v, want an error naming %s", err, RuntimeDirEnv)
	}
	t.Setenv(RuntimeDirEnv, "")
	if d, _ := NamedDir(); d != SharedDir {
		t.Fatalf("NamedDir without $%s = %q, want %s", RuntimeDirEnv, d, SharedDir)
	}
}
