// Package futex wraps the Linux futex(2) wait and wake operations on words in
// memory shared between processes.
//
// The operations never use FUTEX_PRIVATE_FLAG: the words live in MAP_SHARED
// mappings of one file, and a private futex keys on the process's own address
// space, so a waiter in one process would never see a wake from another.
package futex

import (
	"time"
	"unsafe"

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
	var tsp *unix.Timespec
	if timeout > 0 {
		ts := unix.NsecToTimespec(int64(timeout))
		tsp = &ts
	}
	// EINTR (Go's preemption signals), EAGAIN (the word changed) and
	// ETIMEDOUT all mean the same to a caller: look at the word again.
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait,
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
