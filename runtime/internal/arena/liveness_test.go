package arena

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// childEnv makes the test binary a process that attaches to the arena it
// inherits as fd 3, prints its owner id and waits to be killed.
const childEnv = "MPRACE_ARENA_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	f, err := ReopenInherited(os.NewFile(3, "arena"))
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	a, err := Open(f)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println(a.Self())
	time.Sleep(time.Hour)
	return 0
}

// startChild starts a process attached to a and returns it with its id.
func startChild(t *testing.T, a *Arena) (*exec.Cmd, uint32) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.ExtraFiles = []*os.File{a.File()}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(line), 10, 32)
	if err != nil {
		t.Fatalf("child said %q", line)
	}
	return cmd, uint32(id)
}

// fileArena makes a memfd arena, as the family arena is.
func fileArena(t *testing.T) *Arena {
	t.Helper()
	a, err := Create(MinSize * 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// A child's liveness is its slot's file lock: alive while it runs, dead the
// moment it is killed, even though its parent (this process) still has the
// file it inherited open; and its slot's next owner gets another id.
func TestAliveFollowsTheSlotLock(t *testing.T) {
	a := fileArena(t)
	cmd, id := startChild(t, a)
	if id == a.Self() || slotOf(id) < 0 {
		t.Fatalf("child id %#x, parent %#x", id, a.Self())
	}
	if !a.Alive(id) {
		t.Fatal("a running child reads as dead")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if a.Alive(id) {
		t.Fatal("a killed child reads as alive")
	}
	seen := map[uint32]bool{a.Self(): true, id: true}
	for range 3 {
		c, id2 := startChild(t, a)
		if seen[id2] {
			t.Fatalf("id %#x handed out twice", id2)
		}
		seen[id2] = true
		if !a.Alive(id2) {
			t.Fatal("a running child reads as dead")
		}
		c.Process.Kill()
		c.Wait()
	}
}

// Sleep returns when the watched holder dies, promptly, and not before.
func TestSleepEndsAtTheHoldersDeath(t *testing.T) {
	a := fileArena(t)
	cmd, id := startChild(t, a)
	ref, err := a.NewObject(KindValue, 1, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	word := (*uint32)(ref.Data)
	const sleepers = 3
	done := make(chan bool, sleepers)
	for range sleepers {
		go func() {
			for {
				v := atomic.LoadUint32(word)
				if a.Sleep(word, v, id, 1, time.Hour) {
					done <- true
					return
				}
			}
		}()
	}
	select {
	case <-done:
		t.Fatal("Sleep reported a live holder dead")
	case <-time.After(700 * time.Millisecond):
	}
	killed := time.Now()
	cmd.Process.Kill()
	for range sleepers {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Sleep did not return at the holder's death")
		}
	}
	if d := time.Since(killed); d > time.Second {
		t.Fatalf("Sleep took %v to notice the death, want < 1s", d)
	}
}

func TestSealedAgainstShrinking(t *testing.T) {
	a := fileArena(t)
	if err := os.Truncate("/proc/self/fd/"+strconv.Itoa(int(a.File().Fd())), MinSize); err == nil {
		t.Fatal("the family arena's memfd could be shrunk")
	}
	st, _ := a.File().Stat()
	if st.Size() != MinSize*2 {
		t.Fatalf("size %d after a refused truncate", st.Size())
	}
}
