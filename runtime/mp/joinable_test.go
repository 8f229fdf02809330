package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type joinArgs struct {
	Q     *mp.JoinableQueue[int]
	Done  *mp.Int[int64]
	Ready *mp.Int[int64]
}

var (
	joinConsumer = mp.NewFunc("mp_test.joinConsumer", func(ctx context.Context, a joinArgs) error {
		for {
			x, err := a.Q.GetContext(ctx)
			if errors.Is(err, mp.ErrClosed) {
				return nil
			}
			if err != nil {
				return err
			}
			a.Done.Add(int64(x))
			if err := a.Q.TaskDone(); err != nil {
				return err
			}
		}
	})
	joinHog = mp.NewFunc("mp_test.joinHog", func(ctx context.Context, a joinArgs) error {
		if _, err := a.Q.Get(); err != nil {
			return err
		}
		a.Ready.Add(1)
		select {}
	})
)

func TestJoinableQueueDeadTakerFails(t *testing.T) {
	q, err := mp.NewJoinableQueue[int]()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, mp.ErrTaskDone) {
		t.Fatalf("TaskDone with nothing taken: %v", err)
	}
	done, _ := mp.NewInt[int64](0)
	ready, _ := mp.NewInt[int64](0)
	a := joinArgs{Q: q, Done: done, Ready: ready}
	if err := q.Put(1000); err != nil {
		t.Fatal(err)
	}
	hog, err := joinHog.Start(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hog.Kill(); hog.Join() })
	waitFor(t, "the hog to take its task", func() bool { return ready.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := q.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join with a task taken and not done: %v", err)
	}
	for i := 1; i <= 50; i++ {
		if err := q.Put(i); err != nil {
			t.Fatal(err)
		}
	}
	var ps []*mp.Process
	for range 2 {
		p, err := joinConsumer.Start(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Kill(); p.Join() })
		ps = append(ps, p)
	}
	hog.Kill()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	if err := q.Join(ctx2); err != nil {
		t.Fatalf("Join after the hog died: %v", err)
	}
	if got := done.Load(); got != 50*51/2 {
		t.Fatalf("consumers finished tasks summing to %d, want %d", got, 50*51/2)
	}
	if got := q.Failed(); got != 1 {
		t.Fatalf("Failed = %d, want 1 (the hog's)", got)
	}
	q.Close()
	joinAll(t, ps)
}

// A process that takes a task after Join went to sleep, and dies holding
// it, does not strand the joiner: the task fails within about a second.
func TestJoinableQueueTakerAfterJoinSleepsDies(t *testing.T) {
	q, err := mp.NewJoinableQueue[int]()
	if err != nil {
		t.Fatal(err)
	}
	done, _ := mp.NewInt[int64](0)
	ready, _ := mp.NewInt[int64](0)
	a := joinArgs{Q: q, Done: done, Ready: ready}
	if err := q.Put(1); err != nil {
		t.Fatal(err)
	}
	joined := make(chan error, 1)
	go func() { joined <- q.Join(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // Join is asleep, with no taker to watch
	hog, err := joinHog.Start(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hog.Kill(); hog.Join() })
	waitFor(t, "the hog to take its task", func() bool { return ready.Load() == 1 })
	hog.Kill()
	<-hog.Done()
	died := time.Now()
	select {
	case err := <-joined:
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Join stranded by a taker that died after it went to sleep")
	}
	if d := time.Since(died); d > 3*time.Second {
		t.Errorf("Join returned %v after the taker died, want about a second", d)
	}
	if got := q.Failed(); got != 1 {
		t.Errorf("Failed = %d, want 1", got)
	}
}
