package mp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mprace/mprace/runtime/internal/rlock"
	"github.com/mprace/mprace/runtime/internal/waitq"
)

// ErrBrokenBarrier reports a Barrier that can no longer fill: a party died,
// a waiter gave up (its context ended), or Abort was called. Reset mends it.
var ErrBrokenBarrier = errors.New("mp: barrier is broken")

// Why a barrier broke, in barrierState.broken.
const (
	brokenAbort = 1 + iota
	brokenDeath
	brokenCancel
)

func brokenError(why uint32) error {
	switch why {
	case brokenDeath:
		return fmt.Errorf("mp: Barrier.Wait: a party died: %w", ErrBrokenBarrier)
	case brokenCancel:
		return fmt.Errorf("mp: Barrier.Wait: a party gave up waiting: %w", ErrBrokenBarrier)
	}
	return fmt.Errorf("mp: Barrier.Wait: aborted: %w", ErrBrokenBarrier)
}

// maxParties bounds a Barrier's parties and the processes that hold it.
const maxParties = 64

// Barrier makes a fixed number of parties wait for each other, like
// Python's multiprocessing.Barrier: each calls Wait, and all return once the
// last has arrived; then the barrier is ready for the next round.
//
// It is robust: the processes that received the Barrier (as a worker
// argument or in a message) or waited on it are its members, and when one
// of them dies without arriving and too few live members remain to fill the
// round, the waiting parties are released at once with ErrBrokenBarrier,
// instead of waiting forever for a party that died. (A member that exits for
// good after its last round counts as dead for later rounds that need it.)
type Barrier struct {
	_ noCopy
	syncObj
}

// barrierState: members records each member's id and the round (plus one)
// in which it last arrived.
type barrierState struct {
	mu      rlock.State
	parties uint32
	arrived uint32
	round   uint32
	broken  uint32
	resetTo uint32 // the round a Reset started, so its waiters fail
	lost    uint32 // a dead member's entry was given to another (see join)
	w       waitq.Word
	members [maxParties]struct{ id, arrivedIn uint32 }
}

// NewBarrier makes a Barrier for parties parties.
func NewBarrier(parties int) (*Barrier, error) {
	if parties < 1 || parties > maxParties {
		return nil, fmt.Errorf("mp: NewBarrier(%d): want 1 to %d parties", parties, maxParties)
	}
	b := &Barrier{}
	if err := b.init("Barrier", sizeOf[barrierState]()); err != nil {
		return nil, err
	}
	b.st().parties = uint32(parties)
	return b, nil
}

func (b *Barrier) st() *barrierState {
	b.valid("Barrier", "NewBarrier")
	return syncState[barrierState](&b.syncObj)
}

// lock takes the state's lock. A holder that died inside left at most one
// change half made, which the order of the stores makes visible: a round
// counted full (its round advanced, its count not yet reset), or a Reset
// recorded but not started; lock finishes either.
func (b *Barrier) lock(st *barrierState) {
	if err := st.mu.Lock(b.self, b.ref.Arena); !errors.Is(err, rlock.ErrOwnerDead) {
		return
	}
	if st.resetTo == st.round+1 {
		st.broken = 0
		st.round++
	}
	if st.arrived >= st.parties {
		st.arrived = 0
	}
}

// join records this process as a member; st.mu is held. It reports false
// when the table is full of live members.
//
// A dead member keeps its entry until Reset: it is the proof that a round
// it never arrives in cannot fill, even after others joined. Only a full
// table takes a dead member's entry, and then records the loss in st.lost,
// which stands for it until Reset.
func (b *Barrier) join(st *barrierState) (*struct{ id, arrivedIn uint32 }, bool) {
	free, dead := -1, -1
	for i := range st.members {
		m := &st.members[i]
		if m.id == b.self {
			return m, true
		}
		if free < 0 && m.id == 0 {
			free = i
		}
	}
	if free < 0 {
		for i := range st.members {
			if !b.ref.Arena.Alive(st.members[i].id) {
				dead = i
				break
			}
		}
		if dead < 0 {
			return nil, false
		}
		free = dead
		st.lost = 1
	}
	m := &st.members[free]
	m.arrivedIn = 0
	m.id = b.self
	return m, true
}

// Parties returns how many parties the barrier waits for.
func (b *Barrier) Parties() int { return int(b.st().parties) }

// Wait arrives at the barrier and waits for the other parties. It returns
// the arrival index of this party in the round (0 for the first, Parties-1
// for the last), or ErrBrokenBarrier, or ctx's error, which also breaks the
// barrier for the others (as a timeout does in Python).
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	st := b.st()
	ctx = orBackground(ctx)
	b.lock(st)
	if why := st.broken; why != 0 {
		st.mu.Unlock()
		return 0, brokenError(why)
	}
	me, ok := b.join(st)
	if !ok {
		st.mu.Unlock()
		return 0, fmt.Errorf("mp: Barrier.Wait: more than %d processes hold the barrier", maxParties)
	}
	index := int(st.arrived)
	round := st.round
	// The count first: a death before the member's mark leaves a dead
	// member not arrived, which missing weighs against the count, never a
	// round short of one arrival.
	st.arrived++
	me.arrivedIn = round + 1
	if st.arrived == st.parties {
		st.round = round + 1 // then the count: see lock
		st.arrived = 0
		st.mu.Unlock()
		st.w.Notify(0)
		return index, nil
	}
	st.mu.Unlock()
	for {
		seen := st.w.Seq()
		b.lock(st)
		switch {
		case st.round != round && st.resetTo != round+1:
			st.mu.Unlock()
			return index, nil
		case st.round != round:
			st.mu.Unlock()
			return index, fmt.Errorf("mp: Barrier.Wait: reset: %w", ErrBrokenBarrier)
		case st.broken != 0:
			why := st.broken
			st.mu.Unlock()
			return index, brokenError(why)
		case ctx.Err() != nil:
			st.broken = brokenCancel
			st.mu.Unlock()
			st.w.Notify(0)
			return index, fmt.Errorf("mp: Barrier.Wait: %w", ctx.Err())
		}
		missing, watch := b.missing(st, round)
		if missing {
			st.broken = brokenDeath
			st.mu.Unlock()
			st.w.Notify(0)
			return index, brokenError(brokenDeath)
		}
		st.mu.Unlock()
		// Every live member yet to arrive is watched: a death among them
		// wakes this sleep, and a member that joins later wakes it too
		// (see GobDecode), so nothing needs polling.
		st.w.SleepAny(ctx, b.ref.Arena, seen, watch, syncBackstop)
	}
}

// missing reports whether the round cannot fill: a member died without
// arriving in it, and too few live members have yet to arrive. (Too few
// alone is no proof: parties may not have received the barrier yet.) It also
// returns the live members that have yet to arrive, to watch. st.mu is held.
func (b *Barrier) missing(st *barrierState, round uint32) (bool, []uint32) {
	var candidates []uint32
	died := st.lost != 0
	for i := range st.members {
		m := st.members[i]
		if m.id == 0 || m.arrivedIn == round+1 {
			continue
		}
		if b.ref.Arena.Alive(m.id) {
			candidates = append(candidates, m.id)
		} else {
			died = true
		}
	}
	if died && len(candidates) < int(st.parties-st.arrived) {
		return true, nil
	}
	return false, candidates
}

// Abort breaks the barrier: parties waiting now, and any that wait later
// until Reset, get ErrBrokenBarrier.
func (b *Barrier) Abort() {
	st := b.st()
	b.lock(st)
	st.broken = brokenAbort
	st.mu.Unlock()
	st.w.Notify(0)
}

// Reset mends the barrier for a new round. Parties waiting in the current
// round get ErrBrokenBarrier. Dead members are forgotten, so processes
// started to replace them can fill the next rounds.
func (b *Barrier) Reset() {
	st := b.st()
	b.lock(st)
	st.resetTo = st.round + 1 // first: see lock
	st.broken, st.arrived = 0, 0
	st.round++
	for i := range st.members {
		if m := &st.members[i]; m.id != 0 && !b.ref.Arena.Alive(m.id) {
			m.id = 0
		}
	}
	st.lost = 0
	st.mu.Unlock()
	st.w.Notify(0)
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	st := b.st()
	b.lock(st)
	defer st.mu.Unlock()
	return st.broken != 0
}

// GobEncode sends the Barrier to another process of the family.
func (b *Barrier) GobEncode() ([]byte, error) { return b.encode("Barrier") }

// GobDecode attaches to a Barrier sent by another process of the family,
// which becomes one of its members.
func (b *Barrier) GobDecode(data []byte) error {
	if err := b.decode(data, "Barrier", sizeOf[barrierState]()); err != nil {
		return err
	}
	st := b.st()
	b.lock(st)
	_, ok := b.join(st)
	st.mu.Unlock()
	if !ok {
		return fmt.Errorf("mp: decode Barrier: more than %d processes hold it", maxParties)
	}
	// Waiters watch the members yet to arrive: they look again, and watch
	// this one too.
	st.w.Notify(0)
	return nil
}
