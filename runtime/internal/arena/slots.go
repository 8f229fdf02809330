package arena

// The process table gives each attached process a slot and so a short owner
// id for lock words, and lets any process judge whether the holder of a lock
// is alive (arena implements rlock.Owners).
//
// A slot's gen is odd while a process is claiming it and even otherwise; it
// grows by 2 at each claim. An owner id is the slot number plus one in its
// low 12 bits and gen/2 in the other 19, so a lock held by a process whose
// slot was since claimed by another can never be mistaken for the newcomer's.
// There is no release on exit (Go has no atexit that survives os.Exit or a
// crash): a slot is reclaimed when its process is found dead.

import (
	"fmt"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/pidinfo"
)

type slot struct {
	gen   uint32
	pid   uint32
	start uint64
}

const (
	slotBits = 12
	slotMask = 1<<slotBits - 1
	genMask  = 1<<(31-slotBits) - 1
)

func ownerID(index int, gen uint32) uint32 {
	return (gen>>1)&genMask<<slotBits | uint32(index+1)
}

func (a *Arena) claimSlot() error {
	me, err := pidinfo.Self()
	if err != nil {
		return fmt.Errorf("arena: %w", err)
	}
	for i := range a.slots {
		s := &a.slots[i]
		g := atomic.LoadUint32(&s.gen)
		if g&1 != 0 {
			continue
		}
		if pid := atomic.LoadUint32(&s.pid); pid != 0 &&
			pidinfo.Alive(pidinfo.Identity{Pid: int(pid), Start: atomic.LoadUint64(&s.start)}) {
			continue
		}
		if !atomic.CompareAndSwapUint32(&s.gen, g, g|1) {
			continue
		}
		atomic.StoreUint32(&s.pid, uint32(me.Pid))
		atomic.StoreUint64(&s.start, me.Start)
		atomic.StoreUint32(&s.gen, g+2)
		a.self = ownerID(i, g+2)
		return nil
	}
	return fmt.Errorf("arena: %w (%d)", ErrTooManyProcesses, MaxSlots)
}

// releaseSlot frees this process's slot on an orderly Close. Locks it still
// holds then read as held by a dead owner, which is what they are.
func (a *Arena) releaseSlot() {
	i := int(a.self&slotMask) - 1
	if i < 0 || i >= MaxSlots {
		return
	}
	s := &a.slots[i]
	g := atomic.LoadUint32(&s.gen)
	if ownerID(i, g) != a.self || !atomic.CompareAndSwapUint32(&s.gen, g, g|1) {
		return
	}
	atomic.StoreUint32(&s.pid, 0)
	atomic.StoreUint64(&s.start, 0)
	atomic.StoreUint32(&s.gen, g+2)
}

// Alive reports whether the process that took a lock of this arena as id is
// still running. An id that names no slot can only come from a corrupt lock
// word; calling it dead lets a waiter take the lock instead of hanging.
func (a *Arena) Alive(id uint32) bool {
	if id == a.self {
		return true
	}
	i := int(id&slotMask) - 1
	if i < 0 || i >= MaxSlots {
		return false
	}
	s := &a.slots[i]
	g := atomic.LoadUint32(&s.gen)
	if g&1 != 0 || ownerID(i, g) != id {
		return false
	}
	who := pidinfo.Identity{Pid: int(atomic.LoadUint32(&s.pid)), Start: atomic.LoadUint64(&s.start)}
	if atomic.LoadUint32(&s.gen) != g {
		return false
	}
	return pidinfo.Alive(who)
}
