package arena

// The process table gives each attached process a slot, and so a short owner
// id for lock words, and lets any process judge whether the holder of an id
// is alive (arena implements rlock.Owners).
//
// Contract. Liveness is a lock the kernel keeps, never a pid: a pid means
// nothing in another PID namespace and is reused after a death.
//
//   - Slot i owns two bytes of the arena file: its owner byte at
//     slotsOff+16*i and its gate byte just after it. They are used only as
//     ranges of open-file-description locks (fcntl F_OFD_SETLK); their
//     contents are the slot's gen, which is another matter.
//   - A process attached to a file-backed arena holds a write lock on its
//     slot's owner byte through its own open file description (lockFD) for
//     as long as it is attached. The kernel drops the lock when the last
//     descriptor of that description closes, which death does; an
//     inherited descriptor would share the parent's description, so a
//     worker reopens the file (ReopenInherited) before it attaches.
//   - A process is alive for id if the slot's gen matches id and a write
//     lock is held on the slot's owner byte, read twice around the lock test
//     so that a claim in between reads as the death it follows.
//   - Claiming slot i takes a write lock on its gate byte and then on its
//     owner byte, both without waiting, increments gen and drops the gate.
//     The kernel grants the owner byte to one description at a time, so a
//     slot is never handed to two live processes. Watchers (watch.go) hold
//     read locks on the gate byte of the slot they watch, so a dead
//     process's slot is not reclaimed while anyone still waits for news of
//     its death, and an id never outlives the check of its gen.
//   - An owner id is the slot number plus one in its low 12 bits and the
//     slot's gen in the other 19, so a lock held by a process whose slot was
//     since claimed by another is never taken for the newcomer's.
//
// An arena over plain memory (tests, fuzzing) has no file to lock: there a
// slot is claimed by a compare-and-swap of its pid word and an id is alive
// while its slot is claimed with a matching gen.

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/blocking"
	"golang.org/x/sys/unix"
)

type slot struct {
	gen uint32
	// pid is the pid of the slot's process in its own namespace: a
	// diagnostic for people, never a liveness test (but for plain memory,
	// where nonzero marks the slot taken).
	pid uint32
	_   uint64
}

const (
	slotBits = 12
	slotMask = 1<<slotBits - 1
	genMask  = 1<<(31-slotBits) - 1
)

func ownerID(index int, gen uint32) uint32 {
	return gen&genMask<<slotBits | uint32(index+1)
}

// slotOf returns the slot index that id names, or -1.
func slotOf(id uint32) int {
	i := int(id&slotMask) - 1
	if i < 0 || i >= MaxSlots {
		return -1
	}
	return i
}

func ownerByte(i int) int64 { return slotsOff + 16*int64(i) }
func gateByte(i int) int64  { return ownerByte(i) + 1 }

// ofdLock sets (typ F_RDLCK or F_WRLCK) or clears (F_UNLCK) an open file
// description lock on one byte, waiting for it when wait is set.
func ofdLock(fd int, typ int16, at int64, wait bool) error {
	cmd := unix.F_OFD_SETLK
	if wait {
		cmd = unix.F_OFD_SETLKW
	}
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: at, Len: 1}
	for {
		var err error
		if wait {
			// A watcher's wait lasts as long as the process it watches.
			if _, errno := blocking.Syscall6(unix.SYS_FCNTL, uintptr(fd), uintptr(cmd),
				uintptr(unsafe.Pointer(&lk)), 0, 0, 0); errno != 0 {
				err = errno
			}
		} else {
			err = unix.FcntlFlock(uintptr(fd), cmd, &lk)
		}
		if err != unix.EINTR {
			return err
		}
	}
}

// writeLocked reports whether a write lock is held on the byte at through a
// description other than fd's.
func writeLocked(fd int, at int64) (bool, error) {
	// A read lock conflicts only with write locks: watchers' read locks
	// are not mistaken for an owner.
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: at, Len: 1}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

func (a *Arena) claimSlot() error {
	if a.lockFD < 0 {
		return a.claimMemSlot()
	}
	start := atomic.AddUint32(&a.hdr.NextSlot, 1) - 1
	for k := range uint32(MaxSlots) {
		i := int((start + k) % MaxSlots)
		if ofdLock(a.lockFD, unix.F_WRLCK, gateByte(i), false) != nil {
			continue // being claimed, or watched: its process lives or just died
		}
		if ofdLock(a.lockFD, unix.F_WRLCK, ownerByte(i), false) != nil {
			ofdLock(a.lockFD, unix.F_UNLCK, gateByte(i), false)
			continue
		}
		s := &a.slots[i]
		g := atomic.AddUint32(&s.gen, 1)
		atomic.StoreUint32(&s.pid, uint32(os.Getpid()))
		a.self = ownerID(i, g)
		if err := ofdLock(a.lockFD, unix.F_UNLCK, gateByte(i), false); err != nil {
			return fmt.Errorf("arena: release slot gate: %w", err)
		}
		return nil
	}
	return fmt.Errorf("arena: %w (%d)", ErrTooManyProcesses, MaxSlots)
}

func (a *Arena) claimMemSlot() error {
	for i := range a.slots {
		s := &a.slots[i]
		if atomic.CompareAndSwapUint32(&s.pid, 0, uint32(os.Getpid())) {
			a.self = ownerID(i, atomic.AddUint32(&s.gen, 1))
			return nil
		}
	}
	return fmt.Errorf("arena: %w (%d)", ErrTooManyProcesses, MaxSlots)
}

// releaseSlot frees this process's slot on an orderly Close. Locks it still
// holds then read as held by a dead owner, which is what they are.
func (a *Arena) releaseSlot() {
	i := slotOf(a.self)
	if i < 0 {
		return
	}
	if a.lockFD < 0 {
		atomic.StoreUint32(&a.slots[i].pid, 0)
		return
	}
	ofdLock(a.lockFD, unix.F_UNLCK, ownerByte(i), false)
}

// Alive reports whether the process that took a lock of this arena as id is
// still attached. An id that names no slot can only come from a corrupt
// lock word; calling it dead lets a waiter take the lock instead of hanging.
// It costs one fcntl system call.
func (a *Arena) Alive(id uint32) bool {
	if id == a.self {
		return true
	}
	i := slotOf(id)
	if i < 0 {
		return false
	}
	s := &a.slots[i]
	g := atomic.LoadUint32(&s.gen)
	if ownerID(i, g) != id {
		return false
	}
	if a.lockFD < 0 {
		return atomic.LoadUint32(&s.pid) != 0 && atomic.LoadUint32(&s.gen) == g
	}
	locked, err := writeLocked(a.lockFD, ownerByte(i))
	if err != nil {
		// The test itself failed (the arena is being closed): a live
		// owner must never be robbed, so say alive.
		return true
	}
	return locked && atomic.LoadUint32(&s.gen) == g
}

// ReopenInherited returns a new open file description of f, a file this
// process inherited, and closes f. The inherited descriptor shares its
// description, and so its locks, with the parent: keeping it open would keep
// the parent's slot looking alive after the parent's death.
func ReopenInherited(f *os.File) (*os.File, error) {
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) // not fmt: its first use faults in pages of every worker's start
	nf, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("arena: reopen inherited arena through %s (is /proc mounted?): %w", path, err)
	}
	f.Close()
	return nf, nil
}
