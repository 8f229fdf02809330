package mp_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Two programs with different versions of a type share it behind an
// interface, in a Manager's Dict[string, any]: each reads what the other put
// as its own version, the fields they share filled in, the others left zero.
func TestManagerTypeVersionsMeetBehindAnInterface(t *testing.T) {
	v1 := buildChild(t)
	v2 := filepath.Join(t.TempDir(), "mpchild-v2")
	if out, err := exec.Command("go", "build", "-tags", "skewv2", "-o", v2, "./testdata/mpchild").CombinedOutput(); err != nil {
		t.Fatalf("build mpchild -tags skewv2: %v\n%s", err, out)
	}
	name, _ := newManager(t)
	for _, c := range []struct {
		put, get, want string
	}{
		{v1, v2, "{Name:resize Added:map[] ID:7}"},
		{v2, v1, "{ID:2 Name:v2 Old:[]}"},
	} {
		if out, err := exec.Command(c.put, "skew-put", name, "jobs").CombinedOutput(); err != nil {
			t.Fatalf("%s skew-put: %v\n%s", filepath.Base(c.put), err, out)
		}
		out, err := exec.Command(c.get, "skew-get", name, "jobs").CombinedOutput()
		if err != nil {
			t.Fatalf("%s skew-get: %v\n%s", filepath.Base(c.get), err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("%s read what %s put as %s, want %s", filepath.Base(c.get), filepath.Base(c.put), got, c.want)
		}
	}
}
