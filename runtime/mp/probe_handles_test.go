package mp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

// A job as a user would write one: a struct of handle pointers, stored in a
// Dict and a List, not sent as a worker argument.
type probeJob struct {
	Name  string
	Count *mp.Int[int64]
	Out   *mp.Queue[string]
	Done  *mp.Event
	Guard *mp.RLock
}

type probeJobs struct {
	ByName *mp.Dict[string, probeJob]
	Queue  *mp.List[probeJob]
	Held   *mp.Int[int64]
}

// jobRunner finds its jobs in the Dict and the List and uses every handle
// in them; then it takes the RLock of the last three levels deep and dies
// holding it.
var jobRunner = mp.NewFunc("mp_test.jobRunner", func(ctx context.Context, a probeJobs) error {
	jobs, err := a.ByName.Items()
	if err != nil {
		return err
	}
	listed, err := a.Queue.Items()
	if err != nil {
		return err
	}
	var last probeJob
	for _, j := range append(listed, jobs["d"]) {
		j.Count.Add(10)
		if err := j.Out.Put("ran " + j.Name); err != nil {
			return err
		}
		j.Done.Set()
		last = j
	}
	for range 3 {
		last.Guard.Lock()
	}
	a.Held.Store(1)
	<-ctx.Done()
	return nil
})

func TestProbeHandlesInsideStructsInDictAndList(t *testing.T) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	newJob := func(name string) probeJob {
		j := probeJob{Name: name}
		var err error
		j.Count, err = mp.NewInt[int64](1)
		must(err)
		j.Out, err = mp.NewQueue[string]()
		must(err)
		j.Done, err = mp.NewEvent()
		must(err)
		j.Guard, err = mp.NewRLock()
		must(err)
		return j
	}
	d, err := mp.NewDict[string, probeJob]()
	must(err)
	l, err := mp.NewList[probeJob]()
	must(err)
	held, err := mp.NewInt[int64](0)
	must(err)
	jd, jl := newJob("d"), newJob("l")
	must(d.Set("d", jd))
	must(l.Append(jl))
	p := start(t, jobRunner, probeJobs{ByName: d, Queue: l, Held: held})
	waitFor(t, "the worker to hold the RLock", func() bool { return held.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, j := range []probeJob{jd, jl} {
		if err := j.Done.Wait(ctx); err != nil {
			t.Fatalf("job %s: Done: %v", j.Name, err)
		}
		if n := j.Count.Load(); n != 11 {
			t.Errorf("job %s: Count %d, want 11", j.Name, n)
		}
		if s, err := j.Out.GetContext(ctx); err != nil || s != "ran "+j.Name {
			t.Errorf("job %s: Out gave %q, %v", j.Name, s, err)
		}
	}
	if jd.Guard.TryLock() {
		t.Fatal("took the RLock the worker holds three levels deep")
	}
	p.Kill()
	if err := jd.Guard.LockContext(ctx); !errors.Is(err, mp.ErrOwnerDead) {
		t.Fatalf("RLock after its holder died three levels deep: %v, want ErrOwnerDead", err)
	}
	// Ours now, one level deep: re-entrant, and free after one Unlock.
	jd.Guard.Lock()
	jd.Guard.Unlock()
	jd.Guard.Unlock()
	got := make(chan bool, 1)
	go func() { got <- jd.Guard.TryLock() }() // another goroutine: free?
	if !<-got {
		t.Fatal("the RLock is not free after the taker's last Unlock")
	}
}

// nilInSlice puts a slice holding a nil handle of type H in a Queue: under
// gob this used to call the handle's GobEncode with a nil receiver, which
// dereferenced it and panicked; the package's codec sends the nil as nil.
func nilInSlice[H any](t *testing.T, what string) {
	t.Helper()
	q, err := mp.NewQueue[[]*H]()
	if err != nil {
		t.Fatal(err)
	}
	if msg := panicOf(func() { err = q.Put([]*H{nil}) }); msg != "no panic" {
		t.Fatalf("Put of []*mp.%s{nil} panicked: %s", what, msg)
	}
	if err != nil {
		t.Fatalf("Put of []*mp.%s{nil}: %v", what, err)
	}
	got, err := q.Get()
	if err != nil || len(got) != 1 || got[0] != nil {
		t.Errorf("Get after Put of []*mp.%s{nil} = %v, %v; want the one nil", what, got, err)
	}
}

func TestProbeNilHandlesInSlicesAndManagersInMessages(t *testing.T) {
	nilInSlice[mp.Lock](t, "Lock")
	nilInSlice[mp.RLock](t, "RLock")
	nilInSlice[mp.Int[int64]](t, "Int")
	nilInSlice[mp.IntArray[int32]](t, "IntArray")
	nilInSlice[mp.Value[int64]](t, "Value")
	nilInSlice[mp.Array[int32]](t, "Array")
	nilInSlice[mp.Queue[int]](t, "Queue")
	nilInSlice[mp.Dict[string, int]](t, "Dict")
	nilInSlice[mp.List[int]](t, "List")
	nilInSlice[mp.Set[int]](t, "Set")
	nilInSlice[mp.Event](t, "Event")
	nilInSlice[mp.Semaphore](t, "Semaphore")
	nilInSlice[mp.Barrier](t, "Barrier")
	nilInSlice[mp.Condition](t, "Condition")
	nilInSlice[mp.JoinableQueue[int]](t, "JoinableQueue")
	nilInSlice[mp.Conn[int]](t, "Conn")

	// A Manager is sent by name: sending it says so, where gob used to say
	// that mp.Manager has no exported fields.
	name, m := newManager(t)
	q, err := mp.NewQueue[*mp.Manager]()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Put(m); err == nil || !strings.Contains(err.Error(), "OpenManager") || !strings.Contains(err.Error(), name) {
		t.Errorf("Put of a Manager: %v, want an error saying to send its name and call OpenManager", err)
	}
}
