// Package worker starts processes that run a registered entry function, by
// re-executing the current program, and carries their arguments, results,
// panics and exit statuses back and forth. It is byte-level: runtime/mp puts
// typed arguments and the shared arena on top.
//
// A worker is the same binary started again with MPRACE_WORKER in its
// environment. Main, called first thing in main and in TestMain, sees the
// marker and runs the requested entry instead of the program; everywhere else
// it returns at once. Entries are found by name in a registry filled at
// package initialisation, which is why they must be registered at package
// level: a worker never runs the code of main that precedes Main.
//
// A worker must not outlive the process that started it, however that process
// ends. Three independent guards see to it: PR_SET_PDEATHSIG (set from one
// dedicated OS thread that never exits, because the kernel ties the signal to
// the thread that forked, golang/go#27505), a lifeline pipe whose write end
// only the parent holds, and a check of the parent pid when the worker starts.
package worker

// The parent and a worker talk over pipes the worker inherits at fixed
// descriptors, so that arguments and results of any size travel without going
// through argv or the environment. The environment carries only the marker
// that makes Main take over, with the parent's pid for the orphan check.
const (
	envKey     = "MPRACE_WORKER"
	envVersion = "v2"

	fdRequest  = 3 // parent to worker: one request
	fdReply    = 4 // worker to parent: hello, started or refused, then the outcome
	fdLifeline = 5 // reads lifelineStop when the parent asks for a stop, EOF once it is gone
	fdCrash    = 6 // the Go runtime's fatal error output (debug.SetCrashOutput)
	fdFiles    = 7 // the caller's files, in order

	// protocolVersion changes whenever request or reply change shape.
	protocolVersion = 2

	// lifelineStop, written on the lifeline, cancels the entry's context.
	lifelineStop = 's'

	// maxFiles bounds the descriptors a request may claim, so that a
	// corrupt request cannot make the worker walk the descriptor table.
	maxFiles = 1024
)

// Exit statuses of a worker. A panic in a goroutine the entry started, which
// nothing recovers, exits with 2 as well: that is the Go runtime's status.
const (
	exitOK       = 0
	exitError    = 1
	exitPanic    = 2
	exitRefused  = 3 // the worker could not start the entry
	exitOrphaned = 4 // the parent died
)

// request is what the parent sends, once, right after the worker's hello.
type request struct {
	Name  string
	Files int
	Arg   []byte
}

type replyKind uint8

const (
	replyHello   replyKind = iota + 1 // Main runs: the program is worker-aware
	replyStarted                      // the entry is running
	replyRefused                      // the entry could not be started
	replyOK                           // the entry returned nil
	replyError                        // the entry returned an error
	replyPanic                        // the entry panicked
)

// refusal says why a worker refused to start its entry.
type refusal uint8

const (
	refusedProtocol refusal = iota + 1
	refusedNotRegistered
	refusedSetup
)

// reply is one message from the worker. Fields a kind does not use are zero.
type reply struct {
	Kind      replyKind
	Version   int      // hello
	Reason    refusal  // refused
	Msg       string   // refused, error, panic
	Sentinels []string // error: names of the registered sentinels it matches
	Stack     string   // panic
}
