package mp_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

const shmFloats, shmInts = 1000, 777

func shmName(t *testing.T, what string) string {
	name := fmt.Sprintf("mprace-test-%s-%d", what, os.Getpid())
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	return name
}

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed for the SharedMemory interoperability tests (scripts/install-tools.sh installs it)")
	}
	return py
}

// TestSharedMemoryPythonCreates: Python creates and writes a pattern, Go
// reads it through typed views and writes back, Python checks and unlinks.
func TestSharedMemoryPythonCreates(t *testing.T) {
	name := shmName(t, "py")
	cmd := exec.Command(python(t), "testdata/pyshm.py", "create", name, fmt.Sprint(shmFloats), fmt.Sprint(shmInts))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		cmd.Process.Kill()
		t.Fatalf("python: %q, %v", line, err)
	}
	size := 8*shmFloats + 4*shmInts
	if _, err := mp.OpenSharedMemory(name, size+8); !errors.Is(err, mp.ErrSizeMismatch) {
		t.Errorf("open with the wrong size: %v", err)
	}
	m, err := mp.OpenSharedMemory(name, size)
	if err != nil {
		t.Fatal(err)
	}
	if m.Created() || m.Name() != name || m.Size() != size {
		t.Errorf("Created %v, Name %q, Size %d", m.Created(), m.Name(), m.Size())
	}
	f, err := mp.SharedSlice[float64](m, 0, shmFloats)
	if err != nil {
		t.Fatal(err)
	}
	n, err := mp.SharedSlice[int32](m, 8*shmFloats, -1)
	if err != nil || len(n) != shmInts {
		t.Fatalf("int32 view: %d elements, %v", len(n), err)
	}
	for i := range f {
		if f[i] != 1.5*float64(i) {
			t.Fatalf("f[%d] = %v, want %v", i, f[i], 1.5*float64(i))
		}
		f[i] *= 2
	}
	for i := range n {
		if n[i] != int32(-3*i) {
			t.Fatalf("n[%d] = %v, want %v", i, n[i], -3*i)
		}
		n[i]++
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("go\n"))
	rest, _ := out.ReadString('\n')
	if err := cmd.Wait(); err != nil || rest != "ok\n" {
		t.Fatalf("python: %q, %v", rest, err)
	}
	if _, err := os.Stat("/dev/shm/" + name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the block is still there after Python unlinked it: %v", err)
	}
}

// TestSharedMemoryGoCreates: Go creates and writes, Python attaches,
// checks and writes back, and its exit leaves the block in place.
func TestSharedMemoryGoCreates(t *testing.T) {
	name := shmName(t, "go")
	size := 8*shmFloats + 4*shmInts
	m, err := mp.CreateSharedMemory(name, size)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := mp.CreateSharedMemory(name, size); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create of an existing name: %v", err)
	}
	f, _ := mp.SharedSlice[float64](m, 0, shmFloats)
	n, _ := mp.SharedSlice[int32](m, 8*shmFloats, shmInts)
	for i := range f {
		f[i] = 0.25 * float64(i)
	}
	for i := range n {
		n[i] = int32(7 * i)
	}
	out, err := exec.Command(python(t), "testdata/pyshm.py", "attach", name, fmt.Sprint(shmFloats), fmt.Sprint(shmInts)).CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("python: %q, %v", out, err)
	}
	for i := range f {
		if f[i] != -0.25*float64(i) {
			t.Fatalf("f[%d] = %v after Python, want %v", i, f[i], -0.25*float64(i))
		}
	}
	for i := range n {
		if n[i] != int32(14*i) {
			t.Fatalf("n[%d] = %v after Python, want %v", i, n[i], 14*i)
		}
	}
	if _, err := os.Stat("/dev/shm/" + name); err != nil {
		t.Fatalf("the block is gone after Python attached and exited: %v", err)
	}
	if err := m.Unlink(); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.OpenSharedMemory(name, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open after Unlink: %v", err)
	}
}

func TestSharedMemoryBadNamesAndViews(t *testing.T) {
	for _, bad := range []string{"", "a/b", "..", strings.Repeat("x", 256)} {
		if _, err := mp.OpenSharedMemory(bad, 0); err == nil {
			t.Errorf("OpenSharedMemory(%q) succeeded", bad)
		}
	}
	dir := shmName(t, "dir")
	if err := os.Mkdir("/dev/shm/"+dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.OpenSharedMemory(dir, 0); !errors.Is(err, mp.ErrNotSharedMemory) {
		t.Errorf("open of a directory: %v", err)
	}
	fifo := shmName(t, "fifo")
	if err := syscall.Mkfifo("/dev/shm/"+fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.OpenSharedMemory(fifo, 0); !errors.Is(err, mp.ErrNotSharedMemory) {
		t.Errorf("open of a FIFO: %v", err)
	}
	link := shmName(t, "link")
	if err := os.Symlink("/etc/passwd", "/dev/shm/"+link); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.OpenSharedMemory(link, 0); !errors.Is(err, mp.ErrNotSharedMemory) {
		t.Errorf("open of a symbolic link: %v", err)
	}
	if err := mp.UnlinkSharedMemory(dir); !errors.Is(err, mp.ErrNotSharedMemory) {
		t.Errorf("unlink of a directory: %v", err)
	}
	m, err := mp.CreateSharedMemory("", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unlink()
	defer m.Close()
	if !strings.HasPrefix(m.Name(), "psm_") {
		t.Errorf("generated name %q", m.Name())
	}
	if _, err := mp.SharedSlice[float64](m, 4, 1); !errors.Is(err, mp.ErrBadView) {
		t.Errorf("misaligned view: %v", err)
	}
	if _, err := mp.SharedSlice[float64](m, 0, 13); !errors.Is(err, mp.ErrBadView) {
		t.Errorf("view past the end: %v", err)
	}
	if v, err := mp.SharedSlice[float64](m, 8, -1); err != nil || len(v) != 11 {
		t.Errorf("view to the end: %d elements, %v", len(v), err)
	}
}
