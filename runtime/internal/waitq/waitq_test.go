package waitq

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// noOwners is for sleeps that watch no process.
type noOwners struct{ dead atomic.Bool }

func (o *noOwners) Alive(uint32) bool { return !o.dead.Load() }

func (o *noOwners) Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) bool {
	deadline := time.Now().Add(backstop)
	for atomic.LoadUint32(word) == val && time.Now().Before(deadline) {
		if o.dead.Load() {
			atomic.AddUint32(word, bump)
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return o.dead.Load()
}

func TestNotifyWakesSleeper(t *testing.T) {
	var w Word
	var o noOwners
	seen := w.Seq()
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		w.Sleep(context.Background(), &o, seen, 0, time.Minute)
		done <- time.Since(start)
	}()
	for w.Sleepers() == 0 {
		time.Sleep(time.Millisecond)
	}
	w.Notify(1)
	if d := <-done; d > 10*time.Second {
		t.Fatalf("Notify woke the sleeper after %v", d)
	}
	if w.Sleepers() != 0 {
		t.Fatalf("%d sleepers counted after the sleep", w.Sleepers())
	}
}

func TestSleepReturnsAtOnceWhenMoved(t *testing.T) {
	var w Word
	var o noOwners
	seen := w.Seq()
	w.Notify(0) // no sleeper: no system call, but the number moves
	start := time.Now()
	w.Sleep(context.Background(), &o, seen, 0, time.Minute)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a sleep on a moved word took %v", d)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	var w Word
	var o noOwners
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	w.Sleep(ctx, &o, w.Seq(), 0, time.Minute)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a cancelled sleep took %v", d)
	}
}

func TestSleepReportsHolderDeath(t *testing.T) {
	var w Word
	var o noOwners
	go func() {
		time.Sleep(20 * time.Millisecond)
		o.dead.Store(true)
	}()
	if !w.Sleep(context.Background(), &o, w.Seq(), 7, time.Minute) {
		t.Fatal("Sleep did not report the watched holder's death")
	}
}

func TestSpin(t *testing.T) {
	if !Spin(func() bool { return true }) {
		t.Fatal("Spin of a condition that holds reported false")
	}
	n := 0
	if Spin(func() bool { n++; return false }) || n != spinChecks+yields {
		t.Fatalf("Spin of a false condition: looked %d times, want %d", n, spinChecks+yields)
	}
}
