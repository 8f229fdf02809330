package blocking

import (
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestSyscall6ReturnsResultAndErrno(t *testing.T) {
	if r, errno := Syscall6(syscall.SYS_GETPID, 0, 0, 0, 0, 0, 0); errno != 0 || int(r) != os.Getpid() {
		t.Errorf("getpid = %d, %v; want %d", r, errno, os.Getpid())
	}
	if _, errno := Syscall6(syscall.SYS_CLOSE, ^uintptr(0), 0, 0, 0, 0, 0); errno != syscall.EBADF {
		t.Errorf("close(-1): errno %v, want EBADF", errno)
	}
}

// A call that blocks returns with what the kernel gave it, and the process
// goes on meanwhile.
func TestSyscall6Blocks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 8)
		var n uintptr
		var errno syscall.Errno
		rc.Control(func(fd uintptr) {
			syscall.SetNonblock(int(fd), false)
			n, errno = Syscall6(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		})
		if errno != 0 {
			got <- errno.Error()
			return
		}
		got <- string(buf[:n])
	}()
	time.Sleep(20 * time.Millisecond) // the reader is blocked; this goroutine runs
	if _, err := w.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "ping" {
			t.Errorf("blocking read gave %q, want ping", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the blocking read never returned")
	}
}
