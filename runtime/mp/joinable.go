package mp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mprace/mprace/runtime/internal/codec"
	"github.com/mprace/mprace/runtime/internal/rlock"
	"github.com/mprace/mprace/runtime/internal/waitq"
)

// ErrTaskDone reports a TaskDone call with no task taken and not yet done
// in this process (Python's ValueError: task_done() called too many times).
var ErrTaskDone = errors.New("mp: TaskDone called more times than items were taken")

// JoinableQueue is a Queue that counts unfinished tasks, like Python's
// multiprocessing.JoinableQueue: every Put adds a task, a TaskDone after a
// Get finishes one, and Join waits until none is left.
//
// Unlike Python's, a task taken by a process that dies before its TaskDone
// does not keep Join waiting forever: it counts as failed (see Failed), and
// Join returns once every other task is done.
type JoinableQueue[T any] struct {
	_ noCopy
	q *Queue[T]
	syncObj
}

// joinState: unfinished tasks, failed ones, and the tasks each process has
// taken and not finished.
type joinState struct {
	mu         rlock.State
	unfinished int64
	failed     int64
	w          waitq.Word
	takers     [maxHolders]struct{ id, n uint32 }
}

// NewJoinableQueue makes an empty JoinableQueue, with NewQueue's options.
func NewJoinableQueue[T any](opts ...QueueOption) (*JoinableQueue[T], error) {
	q, err := NewQueue[T](opts...)
	if err != nil {
		return nil, err
	}
	j := &JoinableQueue[T]{q: q}
	if err := j.init("JoinableQueue", sizeOf[joinState]()); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *JoinableQueue[T]) st() *joinState {
	j.valid("JoinableQueue", "NewJoinableQueue")
	return syncState[joinState](&j.syncObj)
}

func (j *JoinableQueue[T]) lock(st *joinState) { _ = st.mu.Lock(j.self, j.ref.Arena) }

// Put adds x as a new task, waiting while the queue is full.
func (j *JoinableQueue[T]) Put(x T) error { return j.put(func() error { return j.q.Put(x) }) }

// PutContext is Put that gives up when ctx is done.
func (j *JoinableQueue[T]) PutContext(ctx context.Context, x T) error {
	return j.put(func() error { return j.q.PutContext(ctx, x) })
}

// TryPut adds x as a new task if there is room now (ErrFull otherwise).
func (j *JoinableQueue[T]) TryPut(x T) error { return j.put(func() error { return j.q.TryPut(x) }) }

// put counts the task before the item is visible, so that a TaskDone for it
// never finds the count at zero.
func (j *JoinableQueue[T]) put(do func() error) error {
	st := j.st()
	j.lock(st)
	st.unfinished++
	st.mu.Unlock()
	if err := do(); err != nil {
		j.lock(st)
		st.unfinished--
		st.mu.Unlock()
		st.w.Notify(0)
		return err
	}
	return nil
}

// Get removes and returns the oldest item, waiting while the queue is empty;
// the caller owes a TaskDone for it.
func (j *JoinableQueue[T]) Get() (T, error) { return j.get(j.q.Get) }

// GetContext is Get that gives up when ctx is done.
func (j *JoinableQueue[T]) GetContext(ctx context.Context) (T, error) {
	return j.get(func() (T, error) { return j.q.GetContext(ctx) })
}

// TryGet removes and returns the oldest item if there is one (ErrEmpty
// otherwise).
func (j *JoinableQueue[T]) TryGet() (T, error) { return j.get(j.q.TryGet) }

// get counts the task as this process's before taking it, so that a death
// between the queue giving the item up and the count leaves the task
// failed, not pending forever. (A death before the queue gives it up counts
// it failed too, and its later TaskDone is then one too many for the count,
// which stops at zero.)
func (j *JoinableQueue[T]) get(do func() (T, error)) (T, error) {
	st := j.st()
	j.lock(st)
	e := j.taker(st)
	if e == nil {
		st.mu.Unlock()
		return *new(T), fmt.Errorf("mp: JoinableQueue.Get: %w (%d)", ErrTooManyHolders, maxHolders)
	}
	e.id = j.self
	e.n++
	first := e.n == 1
	st.mu.Unlock()
	if first {
		// A process that now holds a task: a sleeping Join must watch it
		// (Notify costs nothing but an atomic add when no one sleeps).
		st.w.Notify(0)
	}
	x, err := do()
	if err != nil {
		j.lock(st)
		if e.id == j.self && e.n > 0 {
			e.n--
		}
		st.mu.Unlock()
	}
	return x, err
}

// taker returns this process's entry, or a free one; st.mu is held.
func (j *JoinableQueue[T]) taker(st *joinState) *struct{ id, n uint32 } {
	var free *struct{ id, n uint32 }
	for i := range st.takers {
		e := &st.takers[i]
		if e.id == j.self {
			return e
		}
		if free == nil && (e.n == 0 || !j.ref.Arena.Alive(e.id)) {
			free = e
		}
	}
	if free != nil && free.n > 0 {
		j.fail(st, free)
	}
	return free
}

// fail counts a dead taker's tasks as failed; st.mu is held.
func (j *JoinableQueue[T]) fail(st *joinState, e *struct{ id, n uint32 }) {
	st.failed += int64(e.n)
	st.unfinished = max(0, st.unfinished-int64(e.n))
	e.id, e.n = 0, 0
}

// TaskDone finishes one task this process took with Get.
func (j *JoinableQueue[T]) TaskDone() error {
	st := j.st()
	j.lock(st)
	e := (*struct{ id, n uint32 })(nil)
	for i := range st.takers {
		if st.takers[i].id == j.self && st.takers[i].n > 0 {
			e = &st.takers[i]
		}
	}
	if e == nil {
		st.mu.Unlock()
		return ErrTaskDone
	}
	e.n--
	st.unfinished = max(0, st.unfinished-1)
	done := st.unfinished == 0
	st.mu.Unlock()
	if done {
		st.w.Notify(0)
	}
	return nil
}

// Join waits until every task put is done or failed, or until ctx is done
// (then it returns ctx's error).
func (j *JoinableQueue[T]) Join(ctx context.Context) error {
	st := j.st()
	ctx = orBackground(ctx)
	for {
		seen := st.w.Seq()
		j.lock(st)
		var busy []uint32
		for i := range st.takers {
			e := &st.takers[i]
			if e.n == 0 {
				continue
			}
			if e.id != j.self && !j.ref.Arena.Alive(e.id) {
				j.fail(st, e)
				continue
			}
			busy = append(busy, e.id)
		}
		left := st.unfinished
		st.mu.Unlock()
		if left == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mp: JoinableQueue.Join: %w", err)
		}
		// Every process with a task in hand is watched: a death among them
		// wakes this sleep, and the next turn fails its tasks. A process
		// that takes its first task later wakes it too (get), so that the
		// next turn watches it.
		st.w.SleepAny(ctx, j.ref.Arena, seen, busy, syncBackstop)
	}
}

// Failed returns how many tasks were taken by processes that died before
// their TaskDone (as far as a Join or Get has noticed).
func (j *JoinableQueue[T]) Failed() int {
	st := j.st()
	j.lock(st)
	defer st.mu.Unlock()
	return int(st.failed)
}

// Len returns how many items the queue holds.
func (j *JoinableQueue[T]) Len() int { return j.q.Len() }

// Close closes the queue as Queue.Close does.
func (j *JoinableQueue[T]) Close() error { return j.q.Close() }

type joinWire[T any] struct {
	Q     *Queue[T]
	Count []byte
}

// GobEncode sends the queue to another process of the family.
func (j *JoinableQueue[T]) GobEncode() ([]byte, error) {
	if j == nil {
		return nil, nilHandle("JoinableQueue")
	}
	c, err := j.encode("JoinableQueue")
	if err != nil {
		return nil, err
	}
	b, err := codec.Append(nil, joinWire[T]{Q: j.q, Count: c})
	if err != nil {
		return nil, fmt.Errorf("mp: encode JoinableQueue: %w", err)
	}
	return b, nil
}

// GobDecode attaches to a queue sent by another process of the family.
func (j *JoinableQueue[T]) GobDecode(b []byte) error {
	w, err := codec.Decode[joinWire[T]](b)
	if err != nil {
		return fmt.Errorf("mp: decode JoinableQueue: %w", err)
	}
	if w.Q == nil {
		return fmt.Errorf("mp: decode JoinableQueue: %w: no queue", ErrCorrupt)
	}
	if err := j.decode(w.Count, "JoinableQueue", sizeOf[joinState]()); err != nil {
		return err
	}
	j.q = w.Q
	return nil
}
