package mp_test

// Queue tests across processes: producers and consumers are workers (this
// test binary re-executed), and the kill tests SIGKILL them at random
// moments in the middle of their Puts and Gets.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type qProducer struct {
	Q     *mp.Queue[[]byte]
	ID, N int // N < 0: put until killed
	Extra int // bytes added to each item
}

type qConsumer struct {
	Q    *mp.Queue[[]byte]
	Seen *mp.IntArray[int32] // one counter per item: producer*perProducer+i
	Bad  *mp.Int[int64]      // torn, corrupt or out-of-order items
	Per  int
}

var (
	queueProducer = mp.NewFunc("mp_test.queueProducer", func(ctx context.Context, a qProducer) error {
		for i := 0; a.N < 0 || i < a.N; i++ {
			if err := a.Q.Put(mp.QueueTestMessage(a.ID, i, a.Extra)); err != nil {
				return err
			}
		}
		// No flush, no wait: the process exits as soon as Put returned.
		return nil
	})
	queueConsumer = mp.NewFunc("mp_test.queueConsumer", func(ctx context.Context, a qConsumer) error {
		last := map[int]int{}
		for {
			b, err := a.Q.Get()
			if errors.Is(err, mp.ErrClosed) {
				return nil
			}
			if err != nil {
				return err
			}
			p, i, err := mp.QueueCheckMessage(b)
			if err != nil || i >= a.Per || p*a.Per+i >= a.Seen.Len() {
				a.Bad.Add(1)
				continue
			}
			if prev, ok := last[p]; ok && i <= prev {
				a.Bad.Add(1) // out of order for this producer
			}
			last[p] = i
			a.Seen.Add(p*a.Per+i, 1)
		}
	})
)

// TestQueueProcesses: P producer processes and C consumer processes; every
// item arrives exactly once, intact, in order per producer; producers exit
// right after their last Put.
func TestQueueProcesses(t *testing.T) {
	const P, C, per = 3, 3, 3000
	q, seen, bad := queueFixture(t, P*per, mp.WithByteCapacity(16<<10))
	var producers, consumers []*mp.Process
	for c := 0; c < C; c++ {
		consumers = append(consumers, start(t, queueConsumer, qConsumer{Q: q, Seen: seen, Bad: bad, Per: per}))
	}
	for p := 0; p < P; p++ {
		producers = append(producers, start(t, queueProducer, qProducer{Q: q, ID: p, N: per}))
	}
	joinAll(t, producers)
	q.Close()
	joinAll(t, consumers)
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d items torn, corrupt or out of order", n)
	}
	for i := 0; i < P*per; i++ {
		if n := seen.Get(i); n != 1 {
			t.Fatalf("producer %d item %d received %d times", i/per, i%per, n)
		}
	}
}

// TestQueueKillConsumers SIGKILLs consumers at random moments while the test
// process produces: no item is duplicated or corrupt, at most one is lost per
// kill, and the queue goes on working.
func TestQueueKillConsumers(t *testing.T) {
	t.Run("small", func(t *testing.T) { killConsumers(t, 0, 4<<10) })
	t.Run("64KiB", func(t *testing.T) { killConsumers(t, 64<<10, 256<<10) })
}

func killConsumers(t *testing.T, extra, capacity int) {
	// The producer keeps the stream flowing until the last kill, so that
	// every kill lands while consumers are busy.
	const most, kills, live = 1 << 22, 12, 2
	q, seen, bad := queueFixture(t, most, mp.WithByteCapacity(capacity))
	arg := qConsumer{Q: q, Seen: seen, Bad: bad, Per: most}
	procs := make([]*mp.Process, live)
	for i := range procs {
		procs[i] = start(t, queueConsumer, arg)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sent := make(chan int, 1)
	go func() {
		i := 0
		for ; i < most; i++ {
			// A Put that waits when stop comes is not counted as sent.
			err := q.PutContext(ctx, mp.QueueTestMessage(0, i, extra))
			if errors.Is(err, context.Canceled) {
				break
			}
			if err != nil {
				t.Error(err)
				break
			}
		}
		sent <- i
	}()
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(5+rand.IntN(30)) * time.Millisecond)
		i := rand.IntN(len(procs))
		victim := procs[i]
		procs[i] = start(t, queueConsumer, arg)
		victim.Kill()
		if err := victim.Join(); err == nil {
			t.Fatal("a killed consumer reported success: it was not killed mid-stream")
		}
	}
	stop()
	n := <-sent
	q.Close()
	joinAll(t, procs)
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d items torn, corrupt or out of order", n)
	}
	lost := 0
	for i := 0; i < n; i++ {
		switch c := seen.Get(i); {
		case c > 1:
			t.Fatalf("item %d received %d times", i, c)
		case c == 0:
			lost++
		}
	}
	if lost > kills {
		t.Fatalf("%d items lost to %d kills", lost, kills)
	}
	t.Logf("%d kills, %d items sent, %d lost", kills, n, lost)
}

// TestQueueKillProducers SIGKILLs producers in the middle of their Puts
// while the test process consumes: each producer's items arrive as an
// unbroken prefix (nothing lost but the item in flight, nothing twice,
// nothing torn), and the queue goes on working.
func TestQueueKillProducers(t *testing.T) {
	// Large items make a kill in the middle of the copy likely.
	t.Run("small", func(t *testing.T) { killProducers(t, 0, 4<<10) })
	t.Run("64KiB", func(t *testing.T) { killProducers(t, 64<<10, 256<<10) })
}

func killProducers(t *testing.T, extra, capacity int) {
	const kills = 12
	q, err := mp.NewQueue[[]byte](mp.WithByteCapacity(capacity))
	if err != nil {
		t.Fatal(err)
	}
	next := make(map[int]int) // producer -> next item expected
	errc := make(chan error, 1)
	go func() {
		// The first bad item is the verdict, but the consumer drains on to
		// the end, so that the producers never block on a full queue.
		var first error
		for {
			b, err := q.Get()
			if errors.Is(err, mp.ErrClosed) {
				errc <- first
				return
			}
			if err != nil {
				errc <- err
				return
			}
			p, i, err := mp.QueueCheckMessage(b)
			switch {
			case err != nil:
				first = cmp.Or(first, err)
			case i != next[p]:
				first = cmp.Or(first, fmt.Errorf("producer %d: item %d after %d", p, i, next[p]-1))
			}
			next[p] = i + 1
		}
	}()
	procs := []*mp.Process{
		start(t, queueProducer, qProducer{Q: q, ID: 0, N: -1, Extra: extra}),
		start(t, queueProducer, qProducer{Q: q, ID: 1, N: -1, Extra: extra}),
	}
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(5+rand.IntN(30)) * time.Millisecond)
		i := rand.IntN(len(procs))
		victim := procs[i]
		procs[i] = start(t, queueProducer, qProducer{Q: q, ID: 2 + k, N: -1, Extra: extra})
		victim.Kill()
		victim.Join()
	}
	for _, p := range procs {
		p.Kill()
		p.Join()
	}
	// The queue still works after all that: a last item goes through.
	if err := q.Put(mp.QueueTestMessage(1000, 0, 0)); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if next[1000] != 1 {
		t.Fatal("the item put after the kills was not received")
	}
	total := 0
	for _, n := range next {
		total += n
	}
	t.Logf("%d kills, %d items received in order", kills, total)
}

type handleBox struct {
	L *mp.Lock
	V *mp.Value[int64]
	Q *mp.Queue[string]
}

var queueHandles = mp.NewFunc("mp_test.queueHandles", func(ctx context.Context, q *mp.Queue[handleBox]) error {
	h, err := q.Get()
	if err != nil {
		return err
	}
	if !h.L.TryLock() {
		return errors.New("the received Lock is already held")
	}
	h.V.Store(42)
	return h.Q.Put("hello from the worker")
})

// TestQueueSendsHandles: a Lock, a Value and a Queue sent through a Queue
// work in the receiving process, on the sender's objects.
func TestQueueSendsHandles(t *testing.T) {
	q, err := mp.NewQueue[handleBox]()
	if err != nil {
		t.Fatal(err)
	}
	l, _ := mp.NewLock()
	v, _ := mp.NewValue[int64](0)
	inner, err := mp.NewQueue[string]()
	if err != nil || l == nil || v == nil {
		t.Fatal("make handles:", err)
	}
	if err := q.Put(handleBox{L: l, V: v, Q: inner}); err != nil {
		t.Fatal(err)
	}
	if err := start(t, queueHandles, q).Join(); err != nil {
		t.Fatal(err)
	}
	// The worker exited holding the lock: taking it now is a takeover.
	if err := l.TryLockErr(); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("TryLockErr after the worker exited holding the Lock = %v, want ErrOwnerDead", err)
	}
	if s, err := inner.Get(); err != nil || s != "hello from the worker" || v.Load() != 42 {
		t.Fatalf("inner queue %q, %v; value %d", s, err, v.Load())
	}
}

func queueFixture(t *testing.T, items int, opts ...mp.QueueOption) (*mp.Queue[[]byte], *mp.IntArray[int32], *mp.Int[int64]) {
	t.Helper()
	q, err := mp.NewQueue[[]byte](opts...)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := mp.NewIntArray[int32](items)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := mp.NewInt[int64](0)
	if err != nil {
		t.Fatal(err)
	}
	return q, seen, bad
}

// start starts a worker and waits until it runs the function, so that a
// test that kills it kills it at work.
func start[A any](t testing.TB, f *mp.Func[A], arg A) *mp.Process {
	t.Helper()
	p, err := f.Start(context.Background(), arg)
	if err == nil {
		err = p.WaitRunning(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// awaitReady waits until n workers have counted themselves in ready, so that
// a benchmark times the work and not the workers' start (Start returns before
// its worker runs).
func awaitReady(t testing.TB, ready *mp.Int[int32], n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d workers to run", n), func() bool { return ready.Load() >= int32(n) })
}

func joinAll(t testing.TB, ps []*mp.Process) {
	t.Helper()
	for _, p := range ps {
		if err := p.Join(); err != nil {
			t.Fatalf("worker %d: %v", p.Pid(), err)
		}
	}
}

var queueWaiter = mp.NewFunc("mp_test.queueWait", func(ctx context.Context, a struct {
	Q       *mp.Queue[int64]
	Timeout time.Duration // 0: Get without a deadline
}) error {
	if a.Timeout > 0 {
		ctx, cancel := context.WithTimeout(ctx, a.Timeout)
		defer cancel()
		_, err := a.Q.GetContext(ctx)
		return err
	}
	_, err := a.Q.Get()
	return err
})

// TestQueueDeadlineAndCloseAcrossProcesses: a worker's GetContext ends at its
// deadline, and a worker asleep in Get wakes promptly when another process
// closes the queue.
func TestQueueDeadlineAndCloseAcrossProcesses(t *testing.T) {
	q, err := mp.NewQueue[int64]()
	if err != nil {
		t.Fatal(err)
	}
	arg := struct {
		Q       *mp.Queue[int64]
		Timeout time.Duration
	}{Q: q, Timeout: 50 * time.Millisecond}
	if err := start(t, queueWaiter, arg).Join(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetContext past its deadline in a worker: %v", err)
	}
	arg.Timeout = 0
	p := start(t, queueWaiter, arg)
	time.Sleep(100 * time.Millisecond) // long enough to be asleep in the futex
	closed := time.Now()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Get in a worker when the queue closed: %v", err)
	}
	if d := time.Since(closed); d > 80*time.Millisecond {
		t.Logf("the closed queue took %v to wake the worker (a loaded machine?)", d)
	}
}

// TestQueueKilledSleepersForgotten: consumers SIGKILLed while asleep in Get
// stay counted as sleepers until a publish finds them dead, after which
// publishes no longer pay for waking them.
func TestQueueKilledSleepersForgotten(t *testing.T) {
	q, err := mp.NewQueue[int64]()
	if err != nil {
		t.Fatal(err)
	}
	arg := struct {
		Q       *mp.Queue[int64]
		Timeout time.Duration
	}{Q: q}
	var procs []*mp.Process
	for i := 0; i < 3; i++ {
		procs = append(procs, start(t, queueWaiter, arg))
	}
	deadline := time.Now().Add(5 * time.Second)
	for c, _ := mp.QueueSleepers(q); c != 3; c, _ = mp.QueueSleepers(q) {
		if time.Now().After(deadline) {
			t.Fatalf("%d consumers counted asleep, want 3", c)
		}
		time.Sleep(time.Millisecond)
	}
	for _, p := range procs {
		p.Kill()
		p.Join()
	}
	if c, _ := mp.QueueSleepers(q); c != 3 {
		t.Fatalf("%d sleepers counted right after the kills, want the 3 dead ones", c)
	}
	if err := q.Put(1); err != nil {
		t.Fatal(err)
	}
	if c, _ := mp.QueueSleepers(q); c != 0 {
		t.Fatalf("%d sleepers still counted after a publish found them dead", c)
	}
	if x, err := q.TryGet(); err != nil || x != 1 {
		t.Fatalf("TryGet = %d, %v", x, err)
	}
}

type pointerArgs struct {
	Q *mp.Queue[*mp.Lock]
	D *mp.Dict[string, *mp.Value[int64]]
	L *mp.List[*mp.Lock]
}

var pointerHandles = mp.NewFunc("mp_test.pointerHandles", func(ctx context.Context, a pointerArgs) error {
	l, err := a.Q.Get()
	if err != nil {
		return err
	}
	if !l.TryLock() {
		return errors.New("the Lock received through the Queue is held")
	}
	v, ok, err := a.D.Get("v")
	if err != nil || !ok {
		return fmt.Errorf("Dict Get: %v, %v", ok, err)
	}
	v.Store(7)
	none, err := a.L.Get(0)
	if err != nil || none != nil {
		return fmt.Errorf("List[0] = %v, %v; want the nil *Lock put there", none, err)
	}
	l2, err := a.L.Get(1)
	if err != nil {
		return fmt.Errorf("List Get: %v", err)
	}
	l2.Lock()
	return nil
})

// Handle pointers travel through a Queue, a Dict and a List as they do
// inside structs, nil included.
func TestHandlePointersTravel(t *testing.T) {
	q, err := mp.NewQueue[*mp.Lock]()
	if err != nil {
		t.Fatal(err)
	}
	d, err := mp.NewDict[string, *mp.Value[int64]]()
	if err != nil {
		t.Fatal(err)
	}
	l, err := mp.NewList[*mp.Lock]()
	if err != nil {
		t.Fatal(err)
	}
	viaQueue, _ := mp.NewLock()
	viaList, _ := mp.NewLock()
	v, _ := mp.NewValue[int64](0)
	if err := q.Put(viaQueue); err != nil {
		t.Fatal(err)
	}
	if err := d.Set("v", v); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(viaList); err != nil {
		t.Fatal(err)
	}
	if err := start(t, pointerHandles, pointerArgs{Q: q, D: d, L: l}).Join(); err != nil {
		t.Fatal(err)
	}
	if got := v.Load(); got != 7 {
		t.Errorf("the Value reached through the Dict holds %d, want 7", got)
	}
	// The worker exited holding both locks: taking them is a takeover.
	for name, lk := range map[string]*mp.Lock{"Queue": viaQueue, "List": viaList} {
		if err := lk.TryLockErr(); !errors.Is(err, mp.ErrOwnerDead) {
			t.Errorf("the Lock sent through the %s: TryLockErr = %v, want ErrOwnerDead", name, err)
		}
	}
}
