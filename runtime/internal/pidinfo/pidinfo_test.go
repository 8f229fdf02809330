package pidinfo

import (
	"os"
	"os/exec"
	"testing"
)

func TestSelfIsAlive(t *testing.T) {
	me, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if me.Pid != os.Getpid() || me.Start == 0 {
		t.Fatalf("Self = %+v", me)
	}
	if !Alive(me) {
		t.Fatal("this process reads as dead")
	}
	if Alive(Identity{Pid: me.Pid, Start: me.Start + 1}) {
		t.Fatal("this pid with another start time (a reused pid) reads as alive")
	}
	if Alive(Identity{}) || Alive(Identity{Pid: -1}) {
		t.Fatal("a non-pid reads as alive")
	}
}

func TestZombiesAndExitedProcessesAreDead(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start, state, err := stat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child := Identity{Pid: cmd.Process.Pid, Start: start}
	if !Alive(child) || state == 'Z' {
		t.Fatalf("running child reads as dead (state %c)", state)
	}
	cmd.Process.Kill()
	// Until it is reaped the child is a zombie: kill(2) still finds it.
	for {
		if _, st, err := stat(child.Pid); err != nil || st == 'Z' {
			break
		}
	}
	if Alive(child) {
		t.Fatal("a zombie reads as alive")
	}
	cmd.Wait()
	if Alive(child) {
		t.Fatal("a reaped child reads as alive")
	}
}

func TestStatParsesOddCommandNames(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	dir := t.TempDir()
	odd := dir + "/a) (b"
	if err := os.Symlink("/bin/sleep", odd); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	start, state, err := stat(cmd.Process.Pid)
	if err != nil || start == 0 || state == 0 {
		t.Fatalf("stat of %q = %d %c %v", odd, start, state, err)
	}
	if !Alive(Identity{Pid: cmd.Process.Pid, Start: start}) {
		t.Fatal("process with an odd name reads as dead")
	}
}
