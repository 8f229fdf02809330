package worker

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Knobs the tests set in a worker's environment (through config.env) to make
// it misbehave in ways a real program could.
const (
	noMainEnv    = "WORKERTEST_NOMAIN" // "exit" or "hang": skip Main
	setupFailEnv = "WORKERTEST_SETUP"  // "fail": the setup function fails
)

// inherited holds the files the test handed to the worker running this
// process, as Main's setup received them.
var inherited []*os.File

func TestMain(m *testing.M) {
	switch os.Getenv(noMainEnv) {
	case "exit":
		os.Exit(0)
	case "hang":
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	Main(func(files []*os.File) error {
		if os.Getenv(setupFailEnv) == "fail" {
			return errors.New("setup refused on purpose")
		}
		inherited = files
		return nil
	})
	os.Exit(m.Run())
}

var errTest = errors.New("test sentinel")

func init() {
	RegisterError("worker_test.errTest", errTest)
	Register("ok", func(ctx context.Context, arg []byte) error {
		if string(arg) != "ping" {
			return fmt.Errorf("unexpected argument %q", arg)
		}
		return nil
	})
	Register("digest", func(ctx context.Context, arg []byte) error {
		return fmt.Errorf("len=%d sha256=%x", len(arg), sha256.Sum256(arg))
	})
	Register("sentinel", func(ctx context.Context, arg []byte) error {
		return fmt.Errorf("wrapped: %w", errTest)
	})
	Register("panic", func(ctx context.Context, arg []byte) error {
		panic("boom " + string(arg))
	})
	Register("gopanic", func(ctx context.Context, arg []byte) error {
		go func() { panic("boom in goroutine") }()
		select {}
	})
	Register("goexit", func(ctx context.Context, arg []byte) error {
		runtime.Goexit()
		return nil
	})
	Register("exit", func(ctx context.Context, arg []byte) error {
		os.Exit(7)
		return nil
	})
	Register("ignore", func(ctx context.Context, arg []byte) error {
		select {} // deaf to cancellation: only SIGKILL ends it
	})
	Register("stdin", func(ctx context.Context, arg []byte) error {
		b, err := io.ReadAll(os.Stdin)
		if err != nil || len(b) > 0 {
			return fmt.Errorf("standard input gave %q, %v; want an immediate EOF", b, err)
		}
		return nil
	})
	Register("block", func(ctx context.Context, arg []byte) error {
		<-ctx.Done()
		if _, err := fmt.Fprintln(inherited[0], "cancelled"); err != nil {
			return err
		}
		return ctx.Err()
	})
	Register("files", func(ctx context.Context, arg []byte) error {
		if len(inherited) != 2 {
			return fmt.Errorf("got %d files", len(inherited))
		}
		if _, err := fmt.Fprintf(inherited[1], "%s|", arg); err != nil {
			return err
		}
		_, err := fmt.Fprintf(inherited[0], "%s", arg)
		return err
	})
}

func mustStart(t *testing.T, name string, arg []byte, files []*os.File, opts ...Option) *Process {
	t.Helper()
	p, err := Start(context.Background(), name, arg, files, opts...)
	if err != nil {
		t.Fatalf("Start(%q): %v", name, err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait() })
	return p
}

func TestSuccess(t *testing.T) {
	p := mustStart(t, "ok", []byte("ping"), nil)
	if p.Pid() <= 0 || p.Pid() == os.Getpid() {
		t.Fatalf("Pid() = %d, want another process", p.Pid())
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("second Wait: %v", err)
	}
}

func TestArgumentsArriveExactly(t *testing.T) {
	big := make([]byte, 4<<20) // far beyond a pipe's buffer
	for i := range big {
		big[i] = byte(i * 7)
	}
	args := [][]byte{nil, []byte("a"), []byte("line\nwith\x00bytes"), big}
	procs := make([]*Process, len(args))
	for i, a := range args { // all at once: Start must be safe concurrently
		procs[i] = mustStart(t, "digest", a, nil)
	}
	for i, a := range args {
		want := fmt.Sprintf("mp: worker %q (pid %d): len=%d sha256=%x", "digest", procs[i].Pid(), len(a), sha256.Sum256(a))
		err := procs[i].Wait()
		var we *Error
		if !errors.As(err, &we) || err.Error() != want {
			t.Errorf("arg %d: Wait = %v, want *Error %q", i, err, want)
		}
	}
}

func TestSentinelRoundTrip(t *testing.T) {
	err := mustStart(t, "sentinel", nil, nil).Wait()
	if !errors.Is(err, errTest) {
		t.Fatalf("errors.Is(%v, errTest) = false", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("errors.Is(%v, context.Canceled) = true", err)
	}
	if !strings.HasSuffix(err.Error(), ": wrapped: test sentinel") {
		t.Fatalf("message %q lost the worker's text", err)
	}
}

func TestPanicInEntry(t *testing.T) {
	err := mustStart(t, "panic", []byte("x"), nil).Wait()
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait = %v (%T), want *PanicError", err, err)
	}
	if pe.Value != "boom x" || pe.Name != "panic" {
		t.Errorf("PanicError = %+v, want value %q of entry %q", pe, "boom x", "panic")
	}
	if !strings.Contains(pe.Stack, "worker_test.go") {
		t.Errorf("stack does not show the panicking code:\n%s", pe.Stack)
	}
}

func TestPanicInOtherGoroutine(t *testing.T) {
	var stderr strings.Builder // the runtime's report goes to stderr too; keep it out of the test log
	err := mustStart(t, "gopanic", nil, nil, WithStderr(&stderr)).Wait()
	if !strings.Contains(stderr.String(), "panic: boom in goroutine") {
		t.Errorf("the worker's stderr lacks the runtime's report: %q", stderr.String())
	}
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait = %v (%T), want *PanicError", err, err)
	}
	if pe.Value != "boom in goroutine" {
		t.Errorf("Value = %q, want %q", pe.Value, "boom in goroutine")
	}
	if !strings.HasPrefix(pe.Stack, "goroutine ") || !strings.Contains(pe.Stack, "worker_test.go") {
		t.Errorf("stack does not show the panicking code:\n%s", pe.Stack)
	}
}

func TestGoexit(t *testing.T) {
	err := mustStart(t, "goexit", nil, nil).Wait()
	var we *Error
	if !errors.As(err, &we) || we.Msg != "entry called runtime.Goexit" {
		t.Fatalf("Wait = %v, want *Error about Goexit", err)
	}
}

func TestExitStatus(t *testing.T) {
	err := mustStart(t, "exit", nil, nil).Wait()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 7 || ee.Signal != 0 {
		t.Fatalf("Wait = %v, want *ExitError with status 7", err)
	}
}

func TestKill(t *testing.T) {
	p := mustStart(t, "ignore", nil, nil)
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	err := p.Wait()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != -1 || ee.Signal != 9 {
		t.Fatalf("Wait = %v, want *ExitError killed by signal 9", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill after exit: %v, want nil", err)
	}
}

func TestTerminate(t *testing.T) {
	r, w := pipe(t)
	p := mustStart(t, "block", nil, []*os.File{w})
	w.Close()
	for range 3 { // asking again is harmless
		if err := p.Terminate(); err != nil {
			t.Fatalf("Terminate: %v", err)
		}
	}
	err := p.Wait()
	var we *Error
	if !errors.As(err, &we) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want the entry's *Error wrapping context.Canceled", err)
	}
	if line, _ := bufio.NewReader(r).ReadString('\n'); line != "cancelled\n" {
		t.Fatalf("the entry wrote %q, want %q", line, "cancelled\n")
	}
	if err := p.Terminate(); err != nil {
		t.Fatalf("Terminate after exit: %v, want nil", err)
	}
}

// A SIGTERM from elsewhere ends the worker as it ends any program that does
// not handle it, as it ends a Python worker: only the parent's Terminate
// cancels the entry's context.
func TestSigtermFromElsewhere(t *testing.T) {
	p := mustStart(t, "ignore", nil, nil)
	if err := syscall.Kill(p.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.Wait()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != syscall.SIGTERM {
		t.Fatalf("Wait = %v, want *ExitError killed by SIGTERM", err)
	}
}

// Every worker reads /dev/null as its standard input, though the parent
// opens it only once.
func TestStdinIsDevNull(t *testing.T) {
	for range 3 {
		if err := mustStart(t, "stdin", nil, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFilesPassed(t *testing.T) {
	r0, w0 := pipe(t)
	r1, w1 := pipe(t)
	p := mustStart(t, "files", []byte("hello"), []*os.File{w0, w1})
	w0.Close()
	w1.Close()
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	for i, tc := range []struct {
		r    *os.File
		want string
	}{{r0, "hello"}, {r1, "hello|"}} {
		got, err := bufio.NewReader(tc.r).ReadString(0)
		if got != tc.want {
			t.Errorf("file %d: got %q (%v), want %q", i, got, err, tc.want)
		}
	}
}

func TestDuplicateRegisterPanics(t *testing.T) {
	defer func() {
		if msg := fmt.Sprint(recover()); !strings.Contains(msg, `"ok" registered twice`) {
			t.Fatalf("panic = %q, want one about registering twice", msg)
		}
	}()
	Register("ok", func(context.Context, []byte) error { return nil })
}

func TestUnknownEntry(t *testing.T) {
	_, err := Start(context.Background(), "no-such-entry", nil, nil)
	if !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Start = %v, want ErrNotRegistered", err)
	}
	want := `mp: worker entry "no-such-entry" is not registered: call mp.Main first thing in main, and register entries at package level`
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

var lateEntries int

// An entry registered after Main ran exists in the parent but not in the
// worker: the worker must refuse it clearly rather than hang.
func TestEntryRegisteredTooLate(t *testing.T) {
	lateEntries++
	name := "late-" + strconv.Itoa(lateEntries)
	Register(name, func(context.Context, []byte) error { return nil })
	_, err := Start(context.Background(), name, nil, nil)
	if !errors.Is(err, ErrNotRegistered) || !strings.Contains(err.Error(), "register entries at package level") {
		t.Fatalf("Start = %v, want ErrNotRegistered", err)
	}
}

func TestSetupFailure(t *testing.T) {
	_, err := Start(context.Background(), "ok", []byte("ping"), nil, withEnv(setupFailEnv+"=fail"))
	if err == nil || !strings.Contains(err.Error(), "setup: setup refused on purpose") {
		t.Fatalf("Start = %v, want the setup error", err)
	}
}

func TestProgramWithoutMain(t *testing.T) {
	t.Run("exits", func(t *testing.T) {
		_, err := Start(context.Background(), "ok", nil, nil, withEnv(noMainEnv+"=exit"))
		if !errors.Is(err, ErrNoMain) || !strings.Contains(err.Error(), "mp.Main first thing in main") {
			t.Fatalf("Start = %v, want ErrNoMain", err)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		begin := time.Now()
		_, err := Start(context.Background(), "ok", nil, nil, withEnv(noMainEnv+"=hang"), WithHandshakeTimeout(300*time.Millisecond))
		if !errors.Is(err, ErrNoMain) {
			t.Fatalf("Start = %v, want ErrNoMain", err)
		}
		if d := time.Since(begin); d < 300*time.Millisecond || d > 5*time.Second {
			t.Fatalf("Start took %v, want the 300ms handshake timeout", d)
		}
	})
	t.Run("starts workers itself", func(t *testing.T) {
		// What a worker without Main sees: the marker is still set.
		t.Setenv(envKey, envVersion+":1")
		if _, err := Start(context.Background(), "ok", nil, nil); !errors.Is(err, ErrNoMain) {
			t.Fatalf("Start = %v, want ErrNoMain", err)
		}
	})
}

func withEnv(kv ...string) Option { return func(c *config) { c.env = append(c.env, kv...) } }

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// BenchmarkStartWait measures a worker's whole life: fork and exec of this
// binary, handshake, a trivial entry, reap.
func BenchmarkStartWait(b *testing.B) {
	for b.Loop() {
		p, err := Start(context.Background(), "ok", []byte("ping"), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
