package mp

// The cross-process tests (package mp_test) check items with the same
// helpers as the in-process ones.
var (
	QueueTestMessage  = testMessage
	QueueCheckMessage = checkMessage
	QueueShare        = share
)

// QueueSleepers reports the counts of sleeping consumers and producers.
func QueueSleepers[T any](q *Queue[T]) (consumers, producers int) { return q.r.Sleepers() }
