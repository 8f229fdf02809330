package arena

// A named arena's file can be truncated by any process of its user (the
// family memfd cannot: it is sealed), and touching a mapped page past the
// new end of the file is SIGBUS, which Go turns into a fatal error. Methods
// that touch a named arena's memory therefore arm the calling goroutine with
// debug.SetPanicOnFault for their duration and defer Recover, which turns a
// fault inside the arena's mapping into an error wrapping ErrCorrupt (or, for
// methods without an error, a panic with that error). Once a fault was seen
// the arena is broken: a call that faulted may have left a lock held by this
// process, so every later guarded call fails with ErrCorrupt at once.
//
// The family arena is never armed: the guard costs a few nanoseconds, and
// there it could never fire.

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/rlock"
)

// Named reports whether a is a named arena, whose file others may shrink.
func (a *Arena) Named() bool { return a.named }

// Usable returns an error wrapping fs.ErrClosed once a was closed (its
// memory is unmapped: a handle used after its Manager's Close), one wrapping
// ErrCorrupt once a fault was caught in a's memory or a named arena's header
// was found zeroed, and nil before.
func (a *Arena) Usable() error {
	if a.closed.Load() {
		return fmt.Errorf("used after its Manager was closed: %w", fs.ErrClosed)
	}
	if a.broken.Load() || a.named && !a.headerIntact() {
		a.broken.Store(true)
		return fmt.Errorf("%w: the file behind this shared memory was truncated or replaced", ErrCorrupt)
	}
	return nil
}

// headerIntact reports whether a's header still carries its magic and id. A
// file truncated below them and grown again reads as zeros there, which no
// fault reports: without this look, a Lock or an Int would take the zeros
// for values and the data would be lost without a word. A fault while
// looking means the file is shorter still.
func (a *Arena) headerIntact() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return string(a.hdr.Magic[:]) == magic && a.hdr.ID == a.id
}

// Arm makes a fault in this goroutine a panic instead of a fatal error and
// returns the previous setting, for Recover or RecoverPanic to restore:
//
//	defer a.Recover(a.Arm(), &err)
func (a *Arena) Arm() bool { return debug.SetPanicOnFault(true) }

// Recover ends a guarded call with an error: deferred directly, it restores
// the fault setting and turns a fault in a's memory into *err. The calls it
// guards release only locks they took themselves, so a lock found free at
// their release was changed under them (a file truncated and grown again
// reads as zeros): that is damage to the arena too, not a bug of the caller.
func (a *Arena) Recover(old bool, err *error) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		e := a.damageError(r)
		if e == nil {
			panic(r)
		}
		*err = e
	}
}

// RecoverPanic ends a guarded call that has no error to return: a fault in
// a's memory becomes a panic with an error wrapping ErrCorrupt. With own,
// for a call that releases only locks it took itself (an Update), a lock
// found free at its release is damage too, as for Recover; without, an
// Unlock of a free lock stays the caller's bug (it may be a user's Unlock).
func (a *Arena) RecoverPanic(old, own bool) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		e := a.faultError(r)
		if own {
			e = a.damageError(r)
		}
		if e != nil {
			panic(e)
		}
		panic(r)
	}
}

// damageError returns the error for r if r is damage to a's memory: a
// fault inside its mapping, or one of its locks found free by the guarded
// call releasing it. It returns nil for any other panic.
func (a *Arena) damageError(r any) error {
	if e := a.faultError(r); e != nil {
		return e
	}
	if re, ok := r.(error); ok && errors.Is(re, rlock.ErrNotLocked) {
		a.broken.Store(true)
		return fmt.Errorf("%w: a lock in this shared memory was released under its holder "+
			"(the file behind it was truncated or overwritten)", ErrCorrupt)
	}
	return nil
}

// faultError returns the error for r if r is a memory fault inside a's
// mapping, and nil for any other panic.
func (a *Arena) faultError(r any) error {
	f, ok := r.(interface{ Addr() uintptr })
	if !ok || len(a.mem) == 0 {
		return nil
	}
	base := uintptr(unsafe.Pointer(&a.mem[0]))
	addr := f.Addr()
	if addr < base || addr-base >= uintptr(len(a.mem)) {
		return nil
	}
	a.broken.Store(true)
	return fmt.Errorf("%w: the file behind this shared memory was truncated or replaced (fault at offset %d)", ErrCorrupt, addr-base)
}
