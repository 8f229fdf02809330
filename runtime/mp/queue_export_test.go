package mp

// The cross-process tests (package mp_test) check items with the same
// helpers as the in-process ones.
var (
	QueueTestMessage  = testMessage
	QueueCheckMessage = checkMessage
	QueueShare        = share
)
