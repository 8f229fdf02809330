// Package blocking makes system calls that may block for long the way the Go
// runtime makes its own blocking waits: the calling thread's P is handed on
// as the call starts.
//
// An ordinary system call (syscall.Syscall) keeps its P. The runtime's
// sysmon thread, seeing a P in a system call while another is idle, wakes
// every 20-40 µs for 10 ms before it takes the P back and lets itself sleep:
// about 60 context switches each time a process goes idle in a wait. Those
// were an eighth of the cost of starting a worker that then waits, and
// they come back each time an idle waiter's sleep ends.
//
// Handing the P on costs a scheduler round trip when the call returns, so a
// wait that is usually short (a hand-off between busy processes) is better
// made as an ordinary system call first: futex.Wait does that.
package blocking

import (
	"syscall"
	_ "unsafe" // go:linkname
)

// Syscall6 makes the system call trap with the P handed on, and returns its
// result and errno.
//
// Between entersyscallblock and exitsyscall nothing may grow the stack:
// Syscall6 and syscall.RawSyscall6 are nosplit.
//
//go:nosplit
func Syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, syscall.Errno) {
	entersyscallblock()
	r, _, errno := syscall.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
	exitsyscall()
	return r, errno
}

// entersyscallblock and exitsyscall are the runtime's, reached by linkname
// as gVisor reaches them; the runtime keeps them for that (go.dev/issue/67401).

//go:linkname entersyscallblock runtime.entersyscallblock
func entersyscallblock()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()
