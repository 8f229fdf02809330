package worker

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Started without waiting, a worker reports through Wait what would have
// failed Start.
func TestWithoutWait(t *testing.T) {
	start := func(t *testing.T, name string, arg []byte, files []*os.File, opts ...Option) *Process {
		t.Helper()
		p, err := Start(context.Background(), name, arg, files, append(opts, WithoutWait())...)
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		return p
	}
	t.Run("runs", func(t *testing.T) {
		p := start(t, "ok", []byte("ping"), nil)
		if err := p.WaitRunning(context.Background()); err != nil {
			t.Fatalf("WaitRunning = %v, want nil", err)
		}
		if err := p.Wait(); err != nil {
			t.Fatalf("Wait = %v, want nil", err)
		}
	})
	t.Run("setup fails", func(t *testing.T) {
		p := start(t, "ok", []byte("ping"), nil, withEnv(setupFailEnv+"=fail"))
		running := p.WaitRunning(context.Background())
		err := p.Wait()
		if err == nil || !strings.Contains(err.Error(), "setup: setup refused on purpose") {
			t.Fatalf("Wait = %v, want the setup error", err)
		}
		if running != err {
			t.Fatalf("WaitRunning = %v, want Wait's error %v", running, err)
		}
	})
	t.Run("WaitRunning gives up with its context", func(t *testing.T) {
		p := start(t, "ok", nil, nil, withEnv(noMainEnv+"=hang"))
		defer p.Kill()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := p.WaitRunning(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitRunning = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("no Main, exits", func(t *testing.T) {
		err := start(t, "ok", nil, nil, withEnv(noMainEnv+"=exit")).Wait()
		var ee *ExitError
		if !errors.Is(err, ErrNoMain) || !errors.As(err, &ee) || ee.Code != 0 {
			t.Fatalf("Wait = %v, want ErrNoMain and the exit status 0", err)
		}
	})
	t.Run("no Main, hangs", func(t *testing.T) {
		begin := time.Now()
		err := start(t, "ok", nil, nil, withEnv(noMainEnv+"=hang"), WithHandshakeTimeout(300*time.Millisecond)).Wait()
		if !errors.Is(err, ErrNoMain) || !strings.Contains(err.Error(), "did not reach Main within 300ms") {
			t.Fatalf("Wait = %v, want ErrNoMain after the handshake timeout", err)
		}
		if d := time.Since(begin); d < 300*time.Millisecond || d > 5*time.Second {
			t.Fatalf("Wait took %v, want the 300ms handshake timeout", d)
		}
	})
	t.Run("killed at once", func(t *testing.T) {
		p := start(t, "ignore", nil, nil)
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		err := p.Wait()
		var ee *ExitError
		if errors.Is(err, ErrNoMain) || !errors.As(err, &ee) || ee.Signal != syscall.SIGKILL {
			t.Fatalf("Wait = %v, want *ExitError killed by SIGKILL", err)
		}
	})
	t.Run("terminated at once", func(t *testing.T) {
		// Asked to stop before it even runs Main, the entry still starts,
		// with its context cancelled.
		r, w := pipe(t)
		p := start(t, "block", nil, []*os.File{w})
		if err := p.Terminate(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := p.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the entry's context.Canceled", err)
		}
		if line, _ := bufio.NewReader(r).ReadString('\n'); line != "cancelled\n" {
			t.Fatalf("the entry wrote %q, want %q", line, "cancelled\n")
		}
	})
}

// Starts wait for a slot while startSlots workers are still on their way to
// Main, and a worker that never gets there gives its slot back when the
// handshake timeout kills it.
func TestStartSlots(t *testing.T) {
	const timeout = 500 * time.Millisecond
	hung := make([]*Process, cap(startSlots()))
	for i := range hung {
		p, err := Start(context.Background(), "ok", nil, nil, WithoutWait(), withEnv(noMainEnv+"=hang"), WithHandshakeTimeout(timeout))
		if err != nil {
			t.Fatal(err)
		}
		hung[i] = p
	}
	// A start whose context ends while it waits for a slot gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Start(ctx, "ok", []byte("ping"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start while every slot is held, with a 50ms context: %v, want context.DeadlineExceeded", err)
	}
	begin := time.Now()
	p := mustStart(t, "ok", []byte("ping"), nil)
	if d := time.Since(begin); d < timeout/4 {
		t.Fatalf("Start took %v with every slot held by a worker that never reaches Main; want it to wait for the %v timeout", d, timeout)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, h := range hung {
		if err := h.Wait(); !errors.Is(err, ErrNoMain) {
			t.Fatalf("hung worker: Wait = %v, want ErrNoMain", err)
		}
	}
}
