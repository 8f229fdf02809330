package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	Register("say", func(ctx context.Context, arg []byte) error {
		fmt.Printf("stdout of %s\n", arg)
		fmt.Fprintf(os.Stderr, "stderr of %s\n", arg)
		return nil
	})
	// relay starts "say" with the default output: the parent's own.
	Register("relay", func(ctx context.Context, arg []byte) error {
		p, err := Start(ctx, "say", arg, nil)
		if err != nil {
			return err
		}
		return p.Wait()
	})
	// parent starts a grandchild that ignores cancellation, reports its pid
	// on the inherited file and blocks until killed. The argument picks the
	// guard under test.
	Register("parent", func(ctx context.Context, arg []byte) error {
		var opts []Option
		if string(arg) == "lifeline" {
			opts = append(opts, func(c *config) { c.noPdeathsig = true })
		}
		start := func() (*Process, error) { return Start(ctx, "ignore", nil, nil, opts...) }
		if string(arg) == "locked" {
			// Start from a goroutine whose thread dies right after: the
			// grandchild must not take that for its parent's death.
			type started struct {
				p   *Process
				err error
			}
			ch := make(chan started, 1)
			go func() {
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				p, err := start()
				ch <- started{p, err}
			}()
			s := <-ch
			start = func() (*Process, error) { return s.p, s.err }
		}
		p, err := start()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(inherited[0], p.Pid()); err != nil {
			return err
		}
		select {}
	})
}

func TestCancelKills(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := Start(ctx, "ignore", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	cancel()
	err = p.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want it to wrap context.Canceled", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("the worker took %v to go", d)
	}
}

func TestCancelWithGrace(t *testing.T) {
	t.Run("entry stops", func(t *testing.T) {
		r, w := pipe(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		p, err := Start(ctx, "block", nil, []*os.File{w}, WithGrace(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		err = p.Wait()
		// The worker saw its context cancelled (SIGTERM) and returned; the
		// parent's reason is a deadline. Both are told.
		var we *Error
		if !errors.As(err, &we) || !errors.Is(err, context.Canceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want the entry's *Error wrapping context.Canceled and the deadline", err)
		}
		if line, _ := bufio.NewReader(r).ReadString('\n'); line != "cancelled\n" {
			t.Fatalf("the entry wrote %q, want %q", line, "cancelled\n")
		}
	})
	t.Run("entry ignores it", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p, err := Start(ctx, "ignore", nil, nil, WithGrace(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		cancel()
		err = p.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want it to wrap context.Canceled", err)
		}
		if d := time.Since(begin); d < 200*time.Millisecond || d > 3*time.Second {
			t.Fatalf("killed after %v, want after the 200ms grace", d)
		}
	})
}

func TestStartWithEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, "ok", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v, want context.Canceled", err)
	}
}

// The worker's output reaches its parent's stdout and stderr unchanged. The
// parent here is itself a worker, so that the test can capture its output.
func TestOutputPassesThrough(t *testing.T) {
	var stdout, stderr strings.Builder
	p := mustStart(t, "relay", []byte("grandchild"), nil, WithStdout(&stdout), WithStderr(&stderr))
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if stdout.String() != "stdout of grandchild\n" || stderr.String() != "stderr of grandchild\n" {
		t.Fatalf("stdout %q, stderr %q: want each worker line once", stdout.String(), stderr.String())
	}
}

func TestNoDescriptorLeak(t *testing.T) {
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	mustStart(t, "ok", []byte("ping"), nil).Wait() // warm up lazily opened descriptors
	before := count()
	for range 3 {
		mustStart(t, "ok", []byte("ping"), nil).Wait()
		mustStart(t, "exit", nil, nil).Wait()
		Start(context.Background(), "ok", nil, nil, withEnv(noMainEnv+"=exit"))
		Start(context.Background(), "ok", nil, nil, withEnv(setupFailEnv+"=fail"))
	}
	if after := count(); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// A worker dies within a second of its parent, however the parent dies and
// whichever thread started it. The parent here is a worker the test kills
// with SIGKILL; the test process becomes the grandchild's subreaper so that
// it can reap it and tell how it ended.
func TestParentDeath(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("become subreaper: %v", err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })

	for _, mode := range []string{"default", "lifeline", "locked"} {
		t.Run(mode, func(t *testing.T) {
			r, w := pipe(t)
			p := mustStart(t, "parent", []byte(mode), []*os.File{w})
			w.Close()
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil {
				t.Fatalf("grandchild pid: %v (parent: %v)", err, p.Wait())
			}
			gpid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatal(err)
			}
			if mode == "locked" {
				time.Sleep(300 * time.Millisecond)
				if !running(gpid) {
					t.Fatalf("the grandchild died with the thread that started it")
				}
			}

			p.Kill()
			killed := time.Now()
			var ee *ExitError
			if err := p.Wait(); !errors.As(err, &ee) || ee.Signal != unix.SIGKILL {
				t.Fatalf("parent: Wait = %v, want killed", err)
			}
			ws, err := reapWithin(gpid, time.Second)
			if errors.Is(err, unix.ECHILD) && mode != "lifeline" {
				// PR_SET_PDEATHSIG fires as the spawner thread exits, and
				// a thread of the dying parent still in waitid may reap the
				// grandchild before it dies itself. Gone is gone.
				if _, serr := os.Stat("/proc/" + strconv.Itoa(gpid)); !errors.Is(serr, os.ErrNotExist) {
					t.Fatalf("grandchild %d is not our child yet still exists", gpid)
				}
				t.Logf("grandchild gone %v after its parent's SIGKILL, reaped by that parent", time.Since(killed).Round(time.Millisecond))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("grandchild gone %v after its parent's SIGKILL: %v", time.Since(killed).Round(time.Millisecond), describe(ws))
			orphaned := ws.Exited() && ws.ExitStatus() == exitOrphaned
			pdeath := ws.Signaled() && ws.Signal() == unix.SIGKILL
			// The lifeline (EOF at the parent's exit) and PR_SET_PDEATHSIG
			// race when both are on; with the signal off only the lifeline
			// can have ended it.
			if !orphaned && !(pdeath && mode != "lifeline") {
				t.Fatalf("grandchild ended by %s", describe(ws))
			}
		})
	}
}

// running reports whether pid is alive and not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return rest != "" && rest[0] != 'Z'
}

// reapWithin waits for pid, a child of this process, to end.
func reapWithin(pid int, limit time.Duration) (unix.WaitStatus, error) {
	deadline := time.Now().Add(limit)
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err != nil {
			return 0, fmt.Errorf("wait for grandchild %d: %w", pid, err)
		}
		if got == pid {
			return ws, nil
		}
		if time.Now().After(deadline) {
			unix.Kill(pid, unix.SIGKILL)
			unix.Wait4(pid, &ws, 0, nil)
			return 0, fmt.Errorf("grandchild %d still running %v after its parent died", pid, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}
