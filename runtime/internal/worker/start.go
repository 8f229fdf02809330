package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultHandshakeTimeout is how long Start waits for a new worker to show
// that it runs Main. A program that forgot Main runs its own main instead and
// may never exit, so the wait must end somewhere; it is generous because a
// large test binary on a loaded machine starts slowly.
const DefaultHandshakeTimeout = 10 * time.Second

// ioDrain bounds how long the parent waits, once a worker has exited, for the
// pipes to reach EOF. Only a process that inherited them by a fork without
// exec could hold them open longer.
const ioDrain = 2 * time.Second

// Option adjusts how Start runs a worker.
type Option func(*config)

type config struct {
	stdout, stderr io.Writer
	grace          time.Duration
	handshake      time.Duration
	noWait         bool

	// Knobs for this package's tests, which check each guard on its own.
	noPdeathsig bool
	env         []string
}

// WithStdout sends the worker's standard output to w instead of the
// parent's standard output.
func WithStdout(w io.Writer) Option { return func(c *config) { c.stdout = w } }

// WithStderr sends the worker's standard error to w instead of the parent's
// standard error.
func WithStderr(w io.Writer) Option { return func(c *config) { c.stderr = w } }

// WithGrace makes cancellation of Start's context ask the worker to stop
// first, as Terminate does, which cancels the entry's context, and send
// SIGKILL only if the worker is still running after d. Without it cancellation kills at once.
func WithGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithoutWait makes Start return as soon as the new process runs, without
// waiting for it to reach its entry, so that one caller's starts overlap the
// initialisation of the workers it started before. What would have failed
// Start (no Main, a refusal, the handshake timeout) is then Wait's error.
func WithoutWait() Option { return func(c *config) { c.noWait = true } }

// WithHandshakeTimeout replaces DefaultHandshakeTimeout.
func WithHandshakeTimeout(d time.Duration) Option { return func(c *config) { c.handshake = d } }

// Start re-executes the current program (/proc/self/exe, with the same
// arguments) as a worker running the entry registered under name with arg.
// files are inherited by the worker and handed to the setup function given to
// its Main, in order; Start does not close them. It returns once the worker
// runs the entry, or with an error when it cannot: the entry is unknown, the
// program does not call Main, the worker's setup failed, ctx ended.
//
// Cancelling ctx later stops the worker (see WithGrace) and Wait reports it.
func Start(ctx context.Context, name string, arg []byte, files []*os.File, opts ...Option) (*Process, error) {
	cfg := config{stdout: os.Stdout, stderr: os.Stderr, handshake: DefaultHandshakeTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if ctx == nil {
		return nil, fmt.Errorf("mp: start worker %q: nil context", name)
	}
	if _, ok := os.LookupEnv(envKey); ok {
		// This process was started as a worker yet runs ordinary code:
		// Main never took over. Refusing here stops a program without Main
		// from starting workers that start workers without end.
		return nil, fmt.Errorf("mp: start worker %q: %w", name, ErrNoMain)
	}
	if lookup(name) == nil {
		return nil, &notRegisteredError{name}
	}
	if len(files) > maxFiles {
		return nil, fmt.Errorf("mp: start worker %q: %d files, at most %d can be passed", name, len(files), maxFiles)
	}
	for i, f := range files {
		if f == nil {
			return nil, fmt.Errorf("mp: start worker %q: file %d is nil", name, i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mp: start worker %q: %w", name, context.Cause(ctx))
	}
	req := request{Name: name, Files: len(files), Arg: arg}.marshal()
	if frameSize(req) > maxFrame {
		return nil, fmt.Errorf("mp: start worker %q: the argument is %d bytes, at most %d can be passed", name, len(arg), maxFrame-(frameSize(req)-len(arg)))
	}

	slots := startSlots()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("mp: start worker %q: %w", name, context.Cause(ctx))
	}
	p, err := launch(name, files, cfg)
	if err != nil {
		<-slots
		return nil, err
	}
	// The slot is the worker's until it reaches Main, or ends first.
	p.leaveSlot = sync.OnceFunc(func() { <-slots })
	go p.writeRequest(req)
	go p.readReplies()
	go p.readCrash()
	p.stopWatch = context.AfterFunc(ctx, func() { p.stop(context.Cause(ctx)) })
	go p.reap()

	if cfg.noWait {
		go p.settle(ctx)
		return p, nil
	}
	if err := p.handshake(ctx); err != nil {
		p.kill()
		<-p.done
		return nil, err
	}
	return p, nil
}

// startSlots bounds the workers starting at once, whether their Start waits
// or not: a worker holds a slot from its fork until it reaches Main, which is
// most of a start. A starting Go program is runnable nearly all the time, and
// its sysmon thread wakes every 20µs until it settles: a few hundred of them
// at once spend the machine on switching between them. Two per core keep
// every core busy.
var startSlots = sync.OnceValue(func() chan struct{} {
	return make(chan struct{}, max(2, 2*runtime.GOMAXPROCS(0)))
})

// MaxStarting is how many workers may be on their way to Main at once: more
// callers of Start side by side than this only wait for a slot.
func MaxStarting() int { return cap(startSlots()) }

// launch creates the pipes and starts the process.
func launch(name string, files []*os.File, cfg config) (*Process, error) {
	var opened []*os.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			opened = append(opened, r, w)
		}
		return r, w, err
	}
	reqR, reqW, err1 := pipe()
	repR, repW, err2 := pipe()
	lifeR, lifeW, err3 := pipe()
	crashR, crashW, err4 := pipe()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		closeAll()
		return nil, fmt.Errorf("mp: start worker %q: pipes: %w", name, err)
	}

	// The same argv, so that the worker parses its flags as this process
	// did (a test binary's -test.* flags among them).
	cmd := exec.Command("/proc/self/exe")
	if len(os.Args) > 0 {
		cmd.Args = append([]string(nil), os.Args...)
	}
	cmd.Env = workerEnv(cfg.env)
	cmd.Stdout, cmd.Stderr = cfg.stdout, cfg.stderr
	if devNull, err := openDevNull(); err == nil {
		cmd.Stdin = devNull // else os/exec opens it itself, as it does each time without this
	}
	cmd.ExtraFiles = append([]*os.File{reqR, repW, lifeR, crashW}, files...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if !cfg.noPdeathsig {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	// Output copied through a pipe (a writer that is not a file) must not
	// keep Wait waiting on a descendant that inherited the pipe.
	cmd.WaitDelay = ioDrain

	err := onSpawnerThread(cmd.Start)
	// The worker has its copies now (or never will): the parent keeps only
	// its own ends, so that EOF on them means the worker is gone.
	for _, f := range []*os.File{reqR, repW, lifeR, crashW} {
		f.Close()
	}
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("mp: start worker %q: %w", name, err)
	}
	return &Process{
		name:        name,
		pid:         cmd.Process.Pid,
		cfg:         cfg,
		cmd:         cmd,
		reqW:        reqW,
		repR:        repR,
		lifeline:    lifeW,
		crashR:      crashR,
		hello:       make(chan struct{}),
		running:     make(chan struct{}),
		startReply:  make(chan reply, 1),
		repliesDone: make(chan struct{}),
		writeDone:   make(chan struct{}),
		crashDone:   make(chan struct{}),
		done:        make(chan struct{}),
	}, nil
}

// openDevNull opens /dev/null once for every worker's standard input, which
// os/exec would otherwise open and close again for each.
var openDevNull = sync.OnceValues(func() (*os.File, error) {
	return os.Open(os.DevNull)
})

// workerEnv is this process's environment with the worker marker set afresh:
// a worker that starts workers must not pass on its own parent's pid.
func workerEnv(extra []string) []string {
	env := make([]string, 0, len(os.Environ())+1+len(extra))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envKey+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, envKey+"="+envVersion+":"+strconv.Itoa(os.Getpid()))
	return append(env, extra...)
}

// The kernel sends PR_SET_PDEATHSIG when the thread that forked the child
// exits, not the process (golang/go#27505), and Go ends threads that a
// goroutine left locked. Forking from one locked thread that never exits ties
// the signal to the life of the whole process.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	start func() error
	err   chan error
}

func onSpawnerThread(start func() error) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawner.reqs {
				r.err <- r.start()
			}
		}()
	})
	r := spawnRequest{start: start, err: make(chan error, 1)}
	spawner.reqs <- r
	return <-r.err
}

func (p *Process) writeRequest(req []byte) {
	defer close(p.writeDone)
	// An error here means the worker is gone or never read; the replies,
	// or their absence, tell the parent what happened.
	_ = writeFrame(p.reqW, req)
	// The request is the only message: the descriptor need not live as
	// long as the worker (the pidfd of its exit wait takes its place).
	p.reqW.Close()
}

// handshake waits until the worker runs its entry.
func (p *Process) handshake(ctx context.Context) error {
	timer := time.NewTimer(p.cfg.handshake)
	defer timer.Stop()
	select {
	case <-p.hello:
	case <-p.repliesDone:
		select {
		case <-p.hello:
		default:
			return fmt.Errorf("mp: start worker %q: the new process (pid %d) ended without running Main: %w", p.name, p.pid, ErrNoMain)
		}
	case <-timer.C:
		return fmt.Errorf("mp: start worker %q: the new process (pid %d) did not reach Main within %v: %w", p.name, p.pid, p.cfg.handshake, ErrNoMain)
	case <-ctx.Done():
		return fmt.Errorf("mp: start worker %q: %w", p.name, context.Cause(ctx))
	}
	var m reply
	select {
	case m = <-p.startReply:
	case <-p.repliesDone:
		select {
		case m = <-p.startReply:
		default:
			p.kill()
			<-p.done
			return fmt.Errorf("mp: start worker %q: %w", p.name, p.err)
		}
	case <-ctx.Done():
		return fmt.Errorf("mp: start worker %q: %w", p.name, context.Cause(ctx))
	}
	if m.Kind == replyStarted {
		return nil
	}
	return p.refusal(m)
}

// refusal is the error of a worker that answered the request with a refusal.
func (p *Process) refusal(m reply) error {
	switch m.Reason {
	case refusedNotRegistered:
		return &notRegisteredError{p.name}
	case refusedSetup:
		return fmt.Errorf("mp: start worker %q (pid %d): setup: %s", p.name, p.pid, m.Msg)
	default:
		return fmt.Errorf("mp: start worker %q (pid %d): %s", p.name, p.pid, m.Msg)
	}
}

// settle bounds the handshake of a worker started without waiting: one that
// does not reach Main in time is killed, and Wait says why. A refusal, or an
// end before Main, needs nothing here: the worker exits and result reads
// what it said, or did not say.
func (p *Process) settle(ctx context.Context) {
	timer := time.NewTimer(p.cfg.handshake)
	defer timer.Stop()
	select {
	case <-p.hello:
	case <-p.done:
	case <-ctx.Done(): // the context's watch stops the worker
	case <-timer.C:
		p.mu.Lock()
		p.startErr = fmt.Errorf("mp: start worker %q: the new process (pid %d) did not reach Main within %v: %w", p.name, p.pid, p.cfg.handshake, ErrNoMain)
		p.mu.Unlock()
		p.kill()
	}
}
