package futex

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitReturnsAtOnceIfTheWordChanged(t *testing.T) {
	var w uint32 = 1
	start := time.Now()
	Wait(&w, 0, time.Second)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Wait on a word that differs took %v", d)
	}
}

func TestWaitTimesOut(t *testing.T) {
	var w uint32
	start := time.Now()
	Wait(&w, 0, 20*time.Millisecond)
	if d := time.Since(start); d < 15*time.Millisecond || d > time.Second {
		t.Fatalf("Wait with a 20ms timeout took %v", d)
	}
}

func TestWakeWakesAWaiter(t *testing.T) {
	var w uint32
	done := make(chan struct{})
	go func() {
		for atomic.LoadUint32(&w) == 0 {
			Wait(&w, 0, 0)
		}
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	atomic.StoreUint32(&w, 1)
	Wake(&w, 1)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken")
	}
	if n := Wake(&w, 1); n != 0 {
		t.Fatalf("Wake with no waiters woke %d", n)
	}
}

// Waits shorter than blockAfter stay ordinary system calls; longer ones
// go on as blocking ones for what is left of their timeout.
func TestWaitTimesOutOnBothSidesOfBlockAfter(t *testing.T) {
	for _, timeout := range []time.Duration{blockAfter / 2, blockAfter + 30*time.Millisecond} {
		var w uint32
		start := time.Now()
		Wait(&w, 0, timeout)
		if d := time.Since(start); d < timeout || d > timeout+time.Second {
			t.Errorf("Wait with a timeout of %v took %v", timeout, d)
		}
	}
}
