// Package pidinfo tells whether a process identified by pid and start time is
// still alive. A pid alone is not an identity: the kernel reuses pids, so a
// lock owner that died may come back as an unrelated process with the same
// number. The start time (in clock ticks since boot, /proc/PID/stat field 22)
// tells the two apart.
package pidinfo

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Identity names one process for its whole life.
type Identity struct {
	Pid   int
	Start uint64
}

// Self returns the identity of the calling process.
func Self() (Identity, error) {
	pid := os.Getpid()
	start, _, err := stat(pid)
	if err != nil {
		return Identity{}, fmt.Errorf("pidinfo: own start time: %w", err)
	}
	return Identity{Pid: pid, Start: start}, nil
}

// Alive reports whether the process id is still running. A zombie (dead but
// not yet reaped) counts as dead: it will never release anything it held.
func Alive(id Identity) bool {
	if id.Pid <= 0 {
		return false
	}
	if err := unix.Kill(id.Pid, 0); err == unix.ESRCH {
		return false
	}
	start, state, err := stat(id.Pid)
	if err != nil {
		// The process vanished between the two checks, or /proc is not
		// readable; kill(2) said it existed a moment ago, and declaring a
		// live owner dead would break mutual exclusion, so err on alive
		// unless the process is clearly gone.
		return !os.IsNotExist(err)
	}
	return start == id.Start && state != 'Z' && state != 'X'
}

// stat reads the state and start time of pid from /proc/PID/stat.
func stat(pid int) (start uint64, state byte, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) is in parentheses and may itself contain
	// spaces and parentheses, so fields are counted from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := bytes.Fields(b[i+2:])
	// fields[0] is field 3 (state); field 22 (starttime) is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return start, fields[0][0], nil
}
