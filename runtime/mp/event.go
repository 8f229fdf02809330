package mp

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/waitq"
)

// Event is a flag shared by the processes of a family, like Python's
// multiprocessing.Event: Set raises it and wakes every waiter, Clear lowers
// it, Wait blocks until it is raised.
type Event struct {
	_ noCopy
	syncObj
}

type eventState struct {
	flag uint32
	_    uint32
	w    waitq.Word
}

// NewEvent makes a lowered Event in the family's shared arena.
func NewEvent() (*Event, error) {
	e := &Event{}
	if err := e.init("Event", sizeOf[eventState]()); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Event) st() *eventState {
	e.valid("Event", "NewEvent")
	return syncState[eventState](&e.syncObj)
}

// Set raises the flag and wakes every process waiting for it.
func (e *Event) Set() {
	s := e.st()
	if atomic.SwapUint32(&s.flag, 1) == 0 {
		s.w.Notify(0)
	}
}

// Clear lowers the flag.
func (e *Event) Clear() { atomic.StoreUint32(&e.st().flag, 0) }

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool { return atomic.LoadUint32(&e.st().flag) != 0 }

// Wait blocks until the flag is raised, and returns nil, or until ctx is
// done, and returns ctx's error.
func (e *Event) Wait(ctx context.Context) error {
	s := e.st()
	ctx = orBackground(ctx)
	if waitq.Spin(func() bool { return atomic.LoadUint32(&s.flag) != 0 }) {
		return nil
	}
	for {
		seen := s.w.Seq()
		if atomic.LoadUint32(&s.flag) != 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mp: Event.Wait: %w", err)
		}
		s.w.Sleep(ctx, e.ref.Arena, seen, 0, syncBackstop)
	}
}

// GobEncode sends the Event to another process of the family.
func (e *Event) GobEncode() ([]byte, error) { return e.encode("Event") }

// GobDecode attaches to an Event sent by another process of the family.
func (e *Event) GobDecode(b []byte) error { return e.decode(b, "Event", sizeOf[eventState]()) }
