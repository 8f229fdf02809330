package mp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// barrierRounds waits at the barrier a.N times and puts "ok", or the first
// error with its round.
var barrierRounds = mp.NewFunc("mp_test.barrierRounds", func(ctx context.Context, a syncArgs) error {
	for round := range a.N {
		a.Ready.Add(1)
		if _, err := a.Barrier.Wait(ctx); err != nil {
			return a.Results.Put(fmt.Sprintf("round %d: %v", round, err))
		}
	}
	return a.Results.Put("ok")
})

// A party killed while it waits has arrived: its round fills with the other
// three, and the next round, which it can never reach, breaks for them
// within a second of their arrival.
func TestBarrierPartyKilledWhileWaiting(t *testing.T) {
	a := newSyncArgs(t)
	var err error
	if a.Barrier, err = mp.NewBarrier(4); err != nil {
		t.Fatal(err)
	}
	a.N = 1
	victim := startN(t, barrierRounds, a, 1)[0]
	waitFor(t, "the first party waiting", func() bool { return mp.BarrierArrived(a.Barrier) == 1 })
	time.Sleep(50 * time.Millisecond)
	victim.Kill()
	<-victim.Done()
	a.N = 2
	parties := startN(t, barrierRounds, a, 3)
	waitFor(t, "3 parties at the second barrier", func() bool { return a.Ready.Load() == 1+2*3 })
	arrived := time.Now()
	for range 3 {
		msg, err := a.Results.Get()
		if err != nil || msg != "round 1: mp: Barrier.Wait: a party died: mp: barrier is broken" {
			t.Fatalf("party: %q, %v", msg, err)
		}
	}
	if d := time.Since(arrived); d > time.Second {
		t.Errorf("the barrier broke %v after the parties arrived, want within 1 s", d)
	}
	joinAll(t, parties)
	if !a.Barrier.Broken() {
		t.Fatal("Broken() = false after a party died")
	}
	// Reset forgets the dead: four new processes fill the next rounds.
	a.Barrier.Reset()
	a.N = 3
	joinAll(t, startN(t, barrierRounds, a, 4))
	for range 4 {
		if msg, err := a.Results.Get(); err != nil || msg != "ok" {
			t.Fatalf("party after Reset: %q, %v", msg, err)
		}
	}
}
