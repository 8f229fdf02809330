package mp_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// startLine starts cmd and returns its stdout's lines as they come.
func startLine(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 4)
	go func() {
		defer close(lines)
		r := bufio.NewReader(out)
		for {
			s, err := r.ReadString('\n')
			if err != nil {
				return // EOF, or the pipe closed by the cleanup's Wait
			}
			lines <- strings.TrimSpace(s)
		}
	}()
	return lines
}

func expectLine(t *testing.T, lines <-chan string, want string, within time.Duration) {
	t.Helper()
	select {
	case got := <-lines:
		if got != want {
			t.Fatalf("child said %q, want %q", got, want)
		}
	case <-time.After(within):
		t.Fatalf("child did not say %q within %v", want, within)
	}
}

// inNewPIDNamespace runs bin as PID 1 of a new PID namespace, killed with
// unshare (CI runs as root).
func inNewPIDNamespace(bin string, args ...string) *exec.Cmd {
	return exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", bin}, args...)...)
}

// A holder in another PID namespace is PID 1 there, a number that names a
// live but unrelated process here: the waiter must not take the lock while
// the holder lives, and must take it within a second of its death.
func TestLockHolderInAnotherPIDNamespace(t *testing.T) {
	_, _, l, holder := heldInNewPIDNamespace(t)
	if l.TryLock() {
		t.Fatal("TryLock took the lock of a live holder in another PID namespace")
	}
	got := make(chan error, 1)
	go func() { got <- l.LockContext(context.Background()) }()
	waitsThenTakesOver(t, got, holder, 1500*time.Millisecond)
	l.Unlock()
}

// heldInNewPIDNamespace makes a Manager with a Lock "l" and starts mpchild
// holding it as PID 1 of a new PID namespace.
func heldInNewPIDNamespace(t *testing.T) (bin, name string, l *mp.Lock, holder *exec.Cmd) {
	t.Helper()
	bin = buildChild(t)
	name, m := newManager(t)
	l, err := mp.ManagedLock(m, "l")
	if err != nil {
		t.Fatal(err)
	}
	holder = inNewPIDNamespace(bin, "hold-lock", name, "l")
	expectLine(t, startLine(t, holder), "locked", 10*time.Second)
	return bin, name, l, holder
}

// The other way round: the waiter in a new PID namespace, the holder here.
func TestLockWaiterInAnotherPIDNamespace(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	if _, err := mp.ManagedLock(m, "l"); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(bin, "hold-lock", name, "l")
	expectLine(t, startLine(t, holder), "locked", 10*time.Second)
	waiter := inNewPIDNamespace(bin, "wait-lock", name, "l")
	lines := startLine(t, waiter)
	expectLine(t, lines, "waiting", 10*time.Second)
	select {
	case s := <-lines:
		t.Fatalf("the waiter said %q while the holder lives", s)
	case <-time.After(1500 * time.Millisecond):
	}
	holder.Process.Kill()
	expectLine(t, lines, "got ownerdead", time.Second)
}

// A program that polls with TryLock takes over a killed holder's lock, and
// TryLockErr tells it so.
func TestTryLockLoopTakesOverKilledHolder(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	l, err := mp.ManagedLock(m, "l")
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(bin, "hold-lock", name, "l")
	expectLine(t, startLine(t, holder), "locked", 10*time.Second)
	waitsThenTakesOver(t, tryLockLoop(t, l), holder, 500*time.Millisecond)
	l.Unlock()
}

// tryLockLoop polls l with TryLockErr, as a program that must not block
// would, and sends the first answer other than ErrLocked.
func tryLockLoop(t *testing.T, l *mp.Lock) <-chan error {
	got := make(chan error, 1)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			if err := l.TryLockErr(); !errors.Is(err, mp.ErrLocked) {
				got <- err
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return got
}

// waitsThenTakesOver checks that got stays silent for wait while holder
// lives, then, once holder is killed, brings ErrOwnerDead within a second.
func waitsThenTakesOver(t *testing.T, got <-chan error, holder *exec.Cmd, wait time.Duration) {
	t.Helper()
	select {
	case err := <-got:
		t.Fatalf("took the lock (%v) while the holder lives", err)
	case <-time.After(wait):
	}
	killed := time.Now()
	holder.Process.Kill()
	select {
	case err := <-got:
		if !errors.Is(err, mp.ErrOwnerDead) {
			t.Fatalf("after the holder died: %v, want ErrOwnerDead", err)
		}
		if d := time.Since(killed); d > time.Second {
			t.Fatalf("took the lock %v after the holder's death, want < 1s", d)
		}
		t.Logf("took the lock over %v after the kill", time.Since(killed))
	case <-time.After(5 * time.Second):
		t.Fatal("the lock was not taken over after the holder died")
	}
}
