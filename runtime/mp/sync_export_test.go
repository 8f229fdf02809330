package mp

// BarrierArrived reports how many parties have arrived in the barrier's
// current round, for tests that must know a party is waiting.
func BarrierArrived(b *Barrier) int {
	st := b.st()
	b.lock(st)
	defer st.mu.Unlock()
	return int(st.arrived)
}
