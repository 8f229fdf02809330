package worker

// What runtime/mp's Pool needs to run registered entries and carry errors
// itself, inside a long-lived worker, rather than once per process.

// Lookup returns the entry registered under name, or nil.
func Lookup(name string) Entry { return lookup(name) }

// SentinelNames lists the names of the registered sentinels err matches, for
// sending err to another process of the same program.
func SentinelNames(err error) []string { return sentinelNames(err) }

// NewError rebuilds in the receiving process an error a worker reported:
// its message, and the registered sentinels named, which errors.Is finds.
func NewError(name string, pid int, msg string, sentinels []string) *Error {
	return &Error{Name: name, Pid: pid, Msg: msg, sentinels: sentinelsNamed(sentinels)}
}
