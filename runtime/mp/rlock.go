package mp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/mprace/mprace/runtime/internal/rlock"
)

var _ sync.Locker = (*RLock)(nil)

// RLock is a re-entrant lock shared by the processes of a family, like
// Python's multiprocessing.RLock: the goroutine that holds it may take it
// again, and it is free once each Lock has had its Unlock. Only the
// goroutine that holds it may unlock it.
//
// A holder that dies is taken over like a Lock's: LockContext reports
// ErrOwnerDead to the process that takes it over.
type RLock struct {
	_ noCopy
	syncObj
}

// rlockState: the robust lock (owned by a process), the goroutine of that
// process that holds it, and how many times it took it.
type rlockState struct {
	mu    rlock.State
	g     uint64
	depth uint32
	_     uint32
}

// NewRLock makes an unlocked RLock in the family's shared arena.
func NewRLock() (*RLock, error) {
	l := &RLock{}
	if err := l.init("RLock", sizeOf[rlockState]()); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *RLock) st() *rlockState {
	l.valid("RLock", "NewRLock")
	return syncState[rlockState](&l.syncObj)
}

// goid returns the calling goroutine's id, which Go offers only in the
// header of a stack trace ("goroutine 18 [running]:").
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("mp: RLock: cannot tell goroutines apart: " + err.Error())
	}
	return id
}

// mine reports whether the calling goroutine holds the lock.
func (l *RLock) mine(st *rlockState, g uint64) bool {
	return st.mu.Holder() == l.self && st.g == g
}

// Lock acquires the lock, or takes it again if this goroutine holds it.
func (l *RLock) Lock() { _ = l.LockContext(context.Background()) }

// LockContext acquires the lock (or takes it again) or gives up when ctx is
// done. It returns nil or ErrOwnerDead with the lock held, or ctx's error.
func (l *RLock) LockContext(ctx context.Context) error {
	st := l.st()
	g := goid()
	if l.mine(st, g) {
		st.depth++
		return nil
	}
	err := st.mu.LockContext(orBackground(ctx), l.self, l.ref.Arena)
	if err != nil && err != rlock.ErrOwnerDead {
		return fmt.Errorf("mp: RLock: %w", err)
	}
	st.g, st.depth = g, 1
	if err != nil {
		return fmt.Errorf("mp: RLock: %w", err)
	}
	return nil
}

// TryLock acquires the lock if it is free, held by this goroutine, or held
// by a dead process, and reports whether it did.
func (l *RLock) TryLock() bool {
	st := l.st()
	g := goid()
	if l.mine(st, g) {
		st.depth++
		return true
	}
	if ok, _ := st.mu.TryLockOwners(l.self, l.ref.Arena); !ok {
		return false
	}
	st.g, st.depth = g, 1
	return true
}

// Unlock undoes one Lock; the last one frees the lock. Unlocking an RLock
// this goroutine does not hold panics, as Python raises.
func (l *RLock) Unlock() {
	st := l.st()
	if !l.mine(st, goid()) || st.depth == 0 {
		panic("mp: unlock of an RLock not held by this goroutine")
	}
	if st.depth--; st.depth == 0 {
		st.g = 0
		st.mu.Unlock()
	}
}

// releaseAll frees the lock whatever its depth, for Condition.Wait, and
// returns the depth to restore; the caller holds it.
func (l *RLock) releaseAll() uint32 {
	st := l.st()
	if !l.mine(st, goid()) || st.depth == 0 {
		panic("mp: Condition.Wait without holding its RLock")
	}
	d := st.depth
	st.depth, st.g = 0, 0
	st.mu.Unlock()
	return d
}

func (l *RLock) restore(ctx context.Context, depth uint32) error {
	err := l.LockContext(ctx)
	if err == nil || errors.Is(err, rlock.ErrOwnerDead) {
		l.st().depth = depth
	}
	return err
}

// GobEncode sends the RLock to another process of the family.
func (l *RLock) GobEncode() ([]byte, error) { return l.encode("RLock") }

// GobDecode attaches to an RLock sent by another process of the family.
func (l *RLock) GobDecode(b []byte) error { return l.decode(b, "RLock", sizeOf[rlockState]()) }
