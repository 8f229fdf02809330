package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/internal/worker/workertest"
	"golang.org/x/sys/unix"
)

func init() {
	Register("leave", func(ctx context.Context, arg []byte) error {
		cmd := exec.Command("sleep", "10")
		if err := cmd.Start(); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(inherited[0], cmd.Process.Pid); err != nil {
			return err
		}
		os.Exit(5) // without a result: the parent must see the pipes' EOF
		return nil
	})
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
		// The deadline must not pass before the worker has started, which
		// on a loaded machine takes longer than a few milliseconds.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p, err := Start(ctx, "block", nil, []*os.File{w}, WithGrace(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		err = p.Wait()
		// The worker saw its context cancelled (asked over the lifeline)
		// and returned; the parent's reason is a deadline. Both are told.
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

// A program the worker executes and leaves running inherits none of the
// worker's pipes, so the parent learns of the worker's end at once, even
// when the worker reported nothing.
func TestProgramLeftRunning(t *testing.T) {
	workertest.Adopt(t)
	r, w := pipe(t)
	p := mustStart(t, "leave", nil, []*os.File{w})
	w.Close()
	begin := time.Now()
	err := p.Wait()
	took := time.Since(begin)
	line, _ := bufio.NewReader(r).ReadString('\n')
	if pid, perr := strconv.Atoi(strings.TrimSpace(line)); perr == nil {
		unix.Kill(pid, unix.SIGKILL)
		workertest.AwaitEnd(pid, time.Second)
	}
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 5 {
		t.Fatalf("Wait = %v, want *ExitError with status 5", err)
	}
	if took > ioDrain/2 {
		t.Fatalf("Wait took %v: the program held the worker's pipes", took)
	}
}

func TestStartWithEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, "ok", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v, want context.Canceled", err)
	}
}

func TestStartWithNilContext(t *testing.T) {
	var ctx context.Context
	if _, err := Start(ctx, "ok", nil, nil); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Fatalf("Start = %v, want an error about the nil context", err)
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
// with SIGKILL; the test adopts the orphan to tell how it ended.
func TestParentDeath(t *testing.T) {
	workertest.Adopt(t)
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
			end, err := workertest.AwaitEnd(gpid, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("grandchild gone %v after its parent's SIGKILL: %v", time.Since(killed).Round(time.Millisecond), end)
			// The lifeline (EOF as the parent's descriptors close) and
			// PR_SET_PDEATHSIG race when both are on; with the signal off
			// only the lifeline can have ended it.
			orphaned := end.Reaped && end.Status.Exited() && end.Status.ExitStatus() == exitOrphaned
			pdeath := !end.Reaped || end.Status.Signaled() && end.Status.Signal() == unix.SIGKILL
			if !orphaned && !(pdeath && mode != "lifeline") {
				t.Fatalf("grandchild ended by %v", end)
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

// The parent waits for its live workers' exits in the runtime's poller, not
// with an OS thread blocked in waitid per worker: starting many workers does
// not make as many threads.
func TestLiveWorkersHoldNoThreads(t *testing.T) {
	mustStart(t, "ok", []byte("ping"), nil).Wait() // warm up: the spawner thread and the poller
	const n = 24
	before := threads(t)
	ps := make([]*Process, n)
	for i := range ps {
		ps[i] = mustStart(t, "ignore", nil, nil)
	}
	if grown := threads(t) - before; grown > n/3 {
		t.Errorf("%d threads before starting %d workers, %d more while they live", before, n, grown)
	}
	for _, p := range ps {
		p.Kill()
	}
	for _, p := range ps {
		var ee *ExitError
		if err := p.Wait(); !errors.As(err, &ee) || ee.Signal != unix.SIGKILL {
			t.Fatalf("Wait = %v, want killed", err)
		}
	}
}

// threads is this process's count of OS threads.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}
