package mp_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// What a newcomer gets wrong: zero values, nil Managers, handles used after
// their Manager's Close. Each is a clear panic or error, never a fault, a
// nil dereference deep inside or a hang.

// panicOf runs f and returns what it panicked with, as a string, or "no
// panic".
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return "no panic"
}

// Every handle of a Manager used after Close says so. Queue.Len used to die
// of SIGSEGV on the unmapped memory, the others to panic with a nil
// dereference.
func TestProbeEveryManagedHandleAfterClose(t *testing.T) {
	_, m := newManager(t)
	l, err1 := mp.ManagedLock(m, "lock")
	n, err2 := mp.ManagedInt[int64](m, "int", 1)
	v, err3 := mp.ManagedValue(m, "value", [3]int64{})
	a, err4 := mp.ManagedArray[int32](m, "array", 4)
	ia, err5 := mp.ManagedIntArray[int32](m, "ints", 4)
	q, err6 := mp.ManagedQueue[string](m, "queue")
	set, err7 := mp.ManagedSet[int](m, "set")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for what, use := range map[string]func(){
		"Lock.Lock": l.Lock, "Lock.TryLock": func() { l.TryLock() }, "Int.Load": func() { n.Load() },
		"Int.Add": func() { n.Add(1) }, "Value.Load": func() { v.Load() }, "Value.Store": func() { v.Store([3]int64{1}) },
		"Array.Get": func() { a.Get(1) }, "IntArray.Add": func() { ia.Add(1, 1) },
		"Queue.Len": func() { q.Len() }, "Queue.Put": func() { q.Put("x") }, "Queue.Close": func() { q.Close() },
		"Set.Add": func() { set.Add(1) },
	} {
		if msg := panicOf(use); !strings.Contains(msg, "after its Manager was closed") {
			t.Errorf("%s after the Manager's Close: %s, want a panic saying the Manager was closed", what, msg)
		}
	}
	if err := l.LockContext(context.Background()); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Lock.LockContext after the Manager's Close: %v, want fs.ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestProbeZeroValuesSayWhatTheyAre(t *testing.T) {
	var (
		ev   mp.Event
		sem  mp.Semaphore
		bar  mp.Barrier
		cond mp.Condition
		rl   mp.RLock
		conn mp.Conn[int]
		jq   mp.JoinableQueue[int]
		set  mp.Set[int]
	)
	for want, use := range map[string]func(){
		"Event not made by NewEvent":                 ev.Set,
		"Semaphore not made by NewSemaphore":         func() { sem.TryAcquire() },
		"Barrier not made by NewBarrier":             func() { bar.Wait(context.Background()) },
		"Condition not made by NewCondition":         func() { cond.NotifyAll() },
		"RLock not made by NewRLock":                 rl.Lock,
		"Conn not made by NewPipe":                   func() { conn.Send(1) },
		"JoinableQueue not made by NewJoinableQueue": func() { jq.Put(1) },
		"Set[int] not made by NewSet":                func() { set.Add(1) },
	} {
		if msg := panicOf(use); !strings.Contains(msg, want) {
			t.Errorf("zero value used: %s, want a panic saying %q", msg, want)
		}
	}

	// A zero Pool has no workers: its inputs used to wait forever (or
	// divide by zero when the chunk size was left to it).
	var p mp.Pool[int, int]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, chunk := range []int{0, 1} {
		if _, err := p.Map(ctx, []int{1, 2}, chunk); err == nil || !strings.Contains(err.Error(), "not made by NewPool") {
			t.Errorf("Map on a zero Pool (chunk %d): %v, want an error saying it was not made by NewPool", chunk, err)
		}
	}

	var zero mp.Manager
	for what, err := range map[string]error{
		"ManagedLock(nil)":        second(mp.ManagedLock(nil, "x")),
		"ManagedQueue(zero)":      second(mp.ManagedQueue[int](&zero, "x")),
		"Close of a zero Manager": zero.Close(),
	} {
		if err == nil || !strings.Contains(err.Error(), "nil or zero Manager") {
			t.Errorf("%s: %v, want an error about a nil or zero Manager", what, err)
		}
	}

	// A nil context means no deadline, as everywhere else in the package.
	l, err := mp.NewLock()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.LockContext(nil); err != nil {
		t.Fatalf("LockContext(nil): %v", err)
	}
	l.Unlock()
}

func second[T any](_ T, err error) error { return err }
