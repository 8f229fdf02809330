package mp_test

import (
	"errors"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// Programs in separate PID namespaces, each of which is PID 1 in its own,
// share one Manager: a pid names nothing there, so any liveness or process
// slot judged by pid would hand two of them the same slot or rob a live
// holder. Counting exactly shows neither happens.
func TestProbeCountsExactlyAcrossPIDNamespaces(t *testing.T) {
	bin := buildChild(t)
	name, m := newManager(t)
	d, err := mp.ManagedDict[string, int64](m, "counts")
	if err != nil {
		t.Fatal(err)
	}
	const namespaces, each = 4, 1500
	var wg sync.WaitGroup
	for i := range namespaces + 1 {
		wg.Go(func() {
			args := []string{"incr", name, "counts", "hits", strconv.Itoa(each)}
			cmd := exec.Command(bin, args...) // one in this namespace
			if i < namespaces {
				cmd = inNewPIDNamespace(bin, args...)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("mpchild incr: %v\n%s", err, out)
			}
		})
	}
	wg.Wait()
	if got, _, err := d.Get("hits"); err != nil || got != (namespaces+1)*each {
		t.Fatalf("hits = %d (%v), want %d: updates were lost", got, err, (namespaces+1)*each)
	}
}

// A holder in one namespace, two waiters in two others: neither waiter
// takes the lock while the holder lives; when it dies one takes it over,
// and when that one dies holding it, the other.
func TestProbeWaitersInTwoOtherNamespaces(t *testing.T) {
	bin, name, l, holder := heldInNewPIDNamespace(t)
	got := make(chan string, 2)
	for range 2 {
		lines := startLine(t, inNewPIDNamespace(bin, "wait-lock", name, "l"))
		expectLine(t, lines, "waiting", 10*time.Second)
		go func() {
			for s := range lines {
				got <- s
			}
		}()
	}
	select {
	case s := <-got:
		t.Fatalf("a waiter said %q while the holder lives", s)
	case <-time.After(1500 * time.Millisecond):
	}
	if err := l.TryLockErr(); !errors.Is(err, mp.ErrLocked) {
		t.Fatalf("TryLockErr here while the holder lives: %v, want ErrLocked", err)
	}
	holder.Process.Kill()
	// The first waiter takes the lock over and exits holding it; the
	// second takes it over from that one.
	for i := range 2 {
		select {
		case s := <-got:
			if s != "got ownerdead" {
				t.Fatalf("waiter %d said %q, want \"got ownerdead\"", i, s)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("waiter %d did not take the lock over", i)
		}
	}
	// The second exits holding it (its line may come before its exit).
	var err error
	waitFor(t, "the second waiter to exit", func() bool {
		err = l.TryLockErr()
		return !errors.Is(err, mp.ErrLocked)
	})
	if !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("TryLockErr after both waiters died holding it in turn: %v, want ErrOwnerDead", err)
	}
	l.Unlock()
}

// A TryLockErr loop here, the holder PID 1 of another namespace: ErrLocked
// while it lives, ErrOwnerDead within a second of its death.
func TestProbeTryLockLoopAcrossPIDNamespaces(t *testing.T) {
	_, _, l, holder := heldInNewPIDNamespace(t)
	waitsThenTakesOver(t, tryLockLoop(t, l), holder, 1500*time.Millisecond)
	l.Unlock()
}
