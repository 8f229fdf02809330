package jobs_test

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// The example as the README runs it: jobd and jobctl, built and started as
// separate programs, share the Manager by its name.
func TestJobdAndJobctl(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"jobd", "jobctl"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "./"+cmd).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", cmd, err, out)
		}
	}
	name := "jobs-test-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { mp.UnlinkManager(name) })
	jobd := exec.Command(filepath.Join(dir, "jobd"), "-manager", name, "-work", "10ms")
	out, err := jobd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	jobd.Stderr = os.Stderr
	if err := jobd.Start(); err != nil {
		t.Fatal(err)
	}
	defer jobd.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "jobd: running") {
		t.Fatalf("jobd said %q", lines.Text())
	}
	go func() {
		for lines.Scan() {
		}
	}()

	jobctl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(filepath.Join(dir, "jobctl"), append([]string{"-manager", name}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("jobctl %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	jobctl("add", "resize", "thumbnail", "upload")
	deadline := time.Now().Add(20 * time.Second)
	var list string
	for list = jobctl("list"); !strings.Contains(list, "3 jobs, 3 done"); list = jobctl("list") {
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not finish:\n%s", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, job := range []string{"resize", "thumbnail", "upload"} {
		if !strings.Contains(list, job+": done sha256 ") {
			t.Errorf("list has no finished %s:\n%s", job, list)
		}
	}
	if out, err := exec.Command(filepath.Join(dir, "jobctl"), "-manager", name, "add", "resize").CombinedOutput(); err == nil || !strings.Contains(string(out), "exists") {
		t.Errorf("adding a job twice: %v, %s", err, out)
	}
	jobctl("stop")
	if err := jobd.Wait(); err != nil {
		t.Fatalf("jobd: %v", err)
	}
	if _, err := mp.OpenManager(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the Manager outlived jobd stop: %v", err)
	}
}
