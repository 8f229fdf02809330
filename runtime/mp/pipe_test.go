package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type pipeMsg struct {
	N    int
	Text string
	Tags []string
}

type pipeArgs struct {
	Conn  *mp.Conn[pipeMsg]
	Ready *mp.Int[int64]
}

var (
	// pipeEcho answers each message with N doubled until the pipe closes.
	pipeEcho = mp.NewFunc("mp_test.pipeEcho", func(ctx context.Context, a pipeArgs) error {
		for {
			m, err := a.Conn.RecvContext(ctx)
			if errors.Is(err, mp.ErrClosed) {
				return nil
			}
			if err != nil {
				return err
			}
			m.N *= 2
			m.Tags = append(m.Tags, "echoed")
			if err := a.Conn.Send(m); err != nil {
				return err
			}
		}
	})
	pipeMute = mp.NewFunc("mp_test.pipeMute", func(ctx context.Context, a pipeArgs) error {
		a.Ready.Add(1)
		select {}
	})
)

func TestPipeRoundTrip(t *testing.T) {
	a, b, err := mp.NewPipe[pipeMsg](true)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeEcho.Start(context.Background(), pipeArgs{Conn: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); p.Join() })
	for i := range 2000 {
		if err := a.Send(pipeMsg{N: i, Text: "hello", Tags: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		m, err := a.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.N != 2*i || m.Text != "hello" || len(m.Tags) != 2 || m.Tags[1] != "echoed" {
			t.Fatalf("round trip %d: got %+v", i, m)
		}
	}
	if a.Poll() {
		t.Fatal("Poll reports a message nobody sent")
	}
	a.Close()
	if err := p.Join(); err != nil {
		t.Fatalf("echo after Close: %v", err)
	}
	if err := a.Send(pipeMsg{}); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Send on a closed end: %v", err)
	}
}

func TestPipePeerDeath(t *testing.T) {
	a, b, err := mp.NewPipe[pipeMsg](true, mp.WithCapacity(4))
	if err != nil {
		t.Fatal(err)
	}
	ready, _ := mp.NewInt[int64](0)
	p, err := pipeMute.Start(context.Background(), pipeArgs{Conn: b, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); p.Join() })
	waitFor(t, "the peer", func() bool { return ready.Load() == 1 })
	for i := range 4 {
		if err := a.Send(pipeMsg{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	recv := make(chan error, 1)
	send := make(chan error, 1)
	go func() { _, err := a.Recv(); recv <- err }()
	go func() { send <- a.Send(pipeMsg{N: 99}) }() // the pipe is full
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-recv:
		t.Fatalf("Recv returned %v while the peer lived and sent nothing", err)
	case err := <-send:
		t.Fatalf("Send to a full pipe returned %v while the peer lived", err)
	default:
	}
	p.Kill()
	<-p.Done()
	killed := time.Now()
	for what, ch := range map[string]chan error{"Recv": recv, "Send": send} {
		select {
		case err := <-ch:
			if !errors.Is(err, mp.ErrClosed) {
				t.Fatalf("%s after the peer died: %v", what, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still blocked 10 s after the peer died", what)
		}
	}
	if d := time.Since(killed); d > time.Second {
		t.Errorf("a dead peer was seen after %v, want within 1 s", d)
	}
}

func TestPipeOneWay(t *testing.T) {
	r, w, err := mp.NewPipe[string](false)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send("x"); !errors.Is(err, mp.ErrOneWay) {
		t.Fatalf("Send on the receiving end: %v", err)
	}
	if _, err := w.Recv(); !errors.Is(err, mp.ErrOneWay) {
		t.Fatalf("Recv on the sending end: %v", err)
	}
	if err := w.Send("hi"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if s, err := r.Recv(); s != "hi" || err != nil {
		t.Fatalf("Recv = %q, %v", s, err)
	}
	if _, err := r.Recv(); !errors.Is(err, mp.ErrClosed) {
		t.Fatalf("Recv after the sender closed: %v", err)
	}
}
