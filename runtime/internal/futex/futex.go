// Package futex wraps the Linux futex(2) wait and wake operations on words in
// memory shared between processes.
//
// The operations never use FUTEX_PRIVATE_FLAG: the words live in MAP_SHARED
// mappings of one file, and a private futex keys on the process's own address
// space, so a waiter in one process would never see a wake from another.
package futex

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/blocking"
	"golang.org/x/sys/unix"
)

// futex(2) operations; x/sys/unix names the syscall but not its operations.
const (
	opWait = 0 // FUTEX_WAIT
	opWake = 1 // FUTEX_WAKE
)

// Wait blocks while *addr == val, until woken by Wake, until the timeout
// passes (a timeout <= 0 waits without one), or spuriously. It reports
// nothing about which happened: callers re-check the word, which is the only
// reliable signal.
func Wait(addr *uint32, val uint32, timeout time.Duration) {
	// EINTR (Go's preemption signals), EAGAIN (the word changed) and
	// ETIMEDOUT all mean the same to a caller: look at the word again.
	if timeout > 0 && timeout <= blockAfter {
		wait(addr, val, timeout)
		return
	}
	// A wait that outlasts blockAfter is an idle one: go on as a blocking
	// system call (sleep), which lets the runtime's sysmon thread sleep too.
	// Shorter ones, the hand-offs of a busy Queue or Lock, stay ordinary
	// system calls, which keep their P and so come back without a
	// scheduler round trip (QueueProcs/64KiB was 15% slower when every wait
	// handed its P on).
	if wait(addr, val, blockAfter) != unix.ETIMEDOUT {
		return
	}
	var tsp *unix.Timespec
	if timeout > 0 {
		ts := unix.NsecToTimespec(int64(timeout - blockAfter))
		tsp = &ts
	}
	sleep(addr, val, tsp)
}

// blockAfter is how long a wait stays an ordinary system call: longer than
// a hand-off between busy processes takes, short enough that sysmon (which
// wakes every 20 µs while a P sits in a system call) wakes only a few times.
const blockAfter = 100 * time.Microsecond

// wait is the futex wait as an ordinary system call.
func wait(addr *uint32, val uint32, timeout time.Duration) syscall.Errno {
	ts := unix.NsecToTimespec(int64(timeout))
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait,
		uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
	return errno
}

// sleep is the futex wait as a blocking system call (package blocking).
func sleep(addr *uint32, val uint32, tsp *unix.Timespec) {
	blocking.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait,
		uintptr(val), uintptr(unsafe.Pointer(tsp)), 0, 0)
}

// Wake wakes up to n waiters blocked on addr and returns how many it woke.
func Wake(addr *uint32, n int) int {
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWake,
		uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(r)
}
