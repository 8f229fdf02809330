// Package analyzer is the mprace suite: the list of its analyzers with the
// documentation of each check. Drivers (cmd/mprace, golangci-lint, nogo)
// import this package and nothing else of mprace.
package analyzer

import (
	"fmt"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/passes/checkthenact"
	"github.com/mprace/mprace/passes/lockcontext"
	"github.com/mprace/mprace/passes/mpmain"
	"github.com/mprace/mprace/passes/rawtype"
	"github.com/mprace/mprace/passes/readmodifywrite"
	"github.com/mprace/mprace/passes/unreleasedlock"
)

// Check documents one reporting analyzer of the suite.
type Check struct {
	Analyzer *analysis.Analyzer
	Title    string
	// Why explains why the reported code is a race.
	Why string
	// Bad is an example the check reports; Good is its fix.
	Bad, Good string
	Since     string
	Severity  string
}

// Name returns the check's name (its analyzer's).
func (c Check) Name() string { return c.Analyzer.Name }

// Checks lists the checks of the suite.
var Checks = []Check{
	{
		Analyzer: readmodifywrite.Analyzer,
		Title:    "Non-atomic read-modify-write of a shared cell",
		Why: `A value read from a shared cell is written back to the same cell (after
arithmetic, a conversion, a composite literal or a call) with no single lock
held from the read through the write. The read and the write are each atomic,
but the pair is not: another goroutine, or another process sharing the cell
through runtime/mp, can write the cell in between, and its update is lost.
The race detector cannot see this (every step is atomic, and it does not see
other processes at all).

The check understands sync/atomic types and functions, runtime/mp handles and
their elements (Array and IntArray indices, Dict keys, List indices), locks
(mp.Lock, mp.RLock, an mp.Semaphore of one permit, the handles' own locks,
sync.Mutex, the write lock of sync.RWMutex, sync.Locker), and accessor and lock-helper functions in any package. It is silent for atomic updates (Add, CompareAndSwap, Swap,
And, Or, Update), CompareAndSwap loops, a read of one cell written to another,
and code inside one held exclusive lock.`,
		Bad: `counter.Store(counter.Load() + 1)

x := v.Load()
x.Hits++
v.Store(x)

n, _, _ := d.Get("hits") // d is an mp.Dict; an mp.List's Get(i) and Set(i, x) alike
d.Set("hits", n+1)`,
		Good: `counter.Add(1)

v.Update(func(x Stats) Stats { x.Hits++; return x })

d.Update("hits", func(n int) int { return n + 1 })`,
		Since:    "v0.1.0",
		Severity: "error",
	},
	{
		Analyzer: checkthenact.Analyzer,
		Title:    "Check-then-act on a shared cell",
		Why: `A write of a shared cell happens because of a condition computed from a read
of the same cell (an if, an early return, a loop or switch condition), with
no single lock held from the check through the write. Two goroutines or
processes can both read the old value, both pass the check, and both act:
initialisation runs twice, a slot is claimed twice, a reset loses updates.

The check is silent when one exclusive lock covers the check and the write,
for double-checked locking (the cell checked again under the lock that covers
the write), when the check and the write are one CompareAndSwap, and when the
check reads a different cell than the one written. A check whose value also
flows into the write is a read-modify-write and is reported by that check.`,
		Bad: `if !ready.Load() {
	setup()
	ready.Store(true)
}`,
		Good: `if ready.CompareAndSwap(false, true) {
	setup()
}`,
		Since:    "v0.1.0",
		Severity: "error",
	},
	{
		Analyzer: mpmain.Analyzer,
		Title:    "Workers that cannot start: mp.Main not first, mp.NewFunc outside package initialisers",
		Why: `A worker started by Func.Start is the program executed again. Package-level
variable initialisers register its function under the name given to
mp.NewFunc, and mp.Main, called first thing in main (and in TestMain for
tests), hands the worker that function. A program that registers or starts
workers and never calls mp.Main runs its main again in every worker, and
Start fails with mp.ErrNoMain; statements before mp.Main run again in every
worker. mp.NewFunc called in a function body (not init, and not a function
returning the *mp.Func it makes) registers the name only in the process that
ran that code: the worker fails with mp.ErrNotRegistered.

The fix offered inserts mp.Main() as the first statement of main (or
TestMain). A call of a function of the package whose first statement calls
mp.Main counts as calling it.`,
		Bad: `func main() {
	flag.Parse()
	p, _ := worker.Start(ctx, args)
}

func run(ctx context.Context) {
	w := mp.NewFunc("job", job)
	w.Start(ctx, 1)
}`,
		Good: `var w = mp.NewFunc("job", job)

func main() {
	mp.Main()
	flag.Parse()
	p, _ := worker.Start(ctx, args)
}`,
		Since:    "v0.2.0",
		Severity: "error",
	},
	{
		Analyzer: rawtype.Analyzer,
		Title:    "Shared handles of types the runtime refuses",
		Why: `Value and Array keep their elements raw in shared memory: numbers, booleans,
and arrays and structs of them. A pointer, string, slice, map, channel,
function or interface anywhere in the type means nothing in another process,
and mp.NewValue or mp.NewArray fails with mp.ErrPointers at run time. The
report names the field, as that error does.

Queue, Pipe, Dict and List encode items that are not raw in runtime/mp's own
format, as Pools do inputs and results, and a worker's argument (mp.NewFunc)
is always encoded. The format refuses a channel, function or unsafe.Pointer
anywhere in the type, exported struct fields included (they would arrive
nil), a struct none of whose fields is exported (unexported fields are not
sent), and a type with an encoding method but not its decoding one: the first
Put, Send, Set, Append or Start fails. Types that encode themselves
(GobEncode, MarshalBinary, MarshalText with their decoding methods),
interface values (their dynamic types are registered with mp.Register at run
time) and Queues with their own codec (mp.WithCodec) are not reported.`,
		Bad: `type job struct{ id int; text string }

v, err := mp.NewValue(Named{ID: 1, Name: "x"}) // Name is a string
q, err := mp.NewQueue[job]()                   // no exported field: Put fails`,
		Good: `type Job struct{ ID int; Text string }

d, err := mp.NewDict[int64, string]()
q, err := mp.NewQueue[Job]()`,
		Since:    "v0.2.0",
		Severity: "error",
	},
	{
		Analyzer: lockcontext.Analyzer,
		Title:    "LockContext error dropped, or code running where LockContext failed",
		Why: `LockContext on a runtime/mp lock returns nil or mp.ErrOwnerDead with the lock
held, and the context's error without it. Code that drops the error, or goes
on after an error other than ErrOwnerDead (logs it and continues), runs
without the lock it believes it holds: the updates it makes race with the
lock's real holder, and its Unlock panics or releases the lock another
process holds. ErrOwnerDead itself comes wrapped, so err == mp.ErrOwnerDead
is never true.

The check follows the paths from the call, narrowing what the error can be
at err != nil, err == nil and errors.Is tests, and reports the first Unlock
of the lock (deferred or not), or operation of the handle whose own lock it
is, reached where the error may be the context's. An error handed to a
helper that decides on it is trusted.`,
		Bad: `if err := l.LockContext(ctx); err != nil {
	log.Print(err)
}
defer l.Unlock()

_ = l.LockContext(ctx)`,
		Good: `if err := l.LockContext(ctx); err != nil && !errors.Is(err, mp.ErrOwnerDead) {
	return err
}
defer l.Unlock()`,
		Since:    "v0.2.0",
		Severity: "error",
	},
	{
		Analyzer: unreleasedlock.Analyzer,
		Title:    "runtime/mp lock left held on some returns",
		Why: `A runtime/mp lock is shared by every process of the family. A function that
takes one and returns on some path without releasing it, while it releases
it on others, leaves it held: every process that waits for the lock blocks
until this process exits (the next waiter then takes it over and is told
ErrOwnerDead).

Functions that return holding the lock on every path are lock helpers, whose
callers release it, and are not reported; nor are functions that return
holding it exactly when they report success (a nil error, or true), such as
LockContext and TryLock wrappers. A worker's function (mp.NewFunc) or a
goroutine has no caller to release the lock, and is reported when it returns
holding one at all. The fix, offered when it is the same thing
(one Lock at the top of the function, every Unlock just before a return),
defers the Unlock right after the Lock.`,
		Bad: `l.Lock()
if q.Len() == 0 {
	return errEmpty
}
x, _ := q.Get()
l.Unlock()`,
		Good: `l.Lock()
defer l.Unlock()
if q.Len() == 0 {
	return errEmpty
}
x, _ := q.Get()`,
		Since:    "v0.2.0",
		Severity: "error",
	},
}

// Suite returns the analyzers of the suite, for a driver.
func Suite() []*analysis.Analyzer {
	out := make([]*analysis.Analyzer, len(Checks))
	for i, c := range Checks {
		out[i] = c.Analyzer
	}
	return out
}

// Lookup returns the check with the given name.
func Lookup(name string) (Check, bool) {
	for _, c := range Checks {
		if c.Name() == name {
			return c, true
		}
	}
	return Check{}, false
}

// Doc returns the full documentation of the check, as `mprace help CHECK`
// prints it.
func (c Check) Doc() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", c.Name(), c.Title)
	fmt.Fprintf(&b, "Severity: %s. Since: %s.\n\n", c.Severity, c.Since)
	fmt.Fprintf(&b, "Why it is a race:\n\n%s\n\n", indent(c.Why))
	fmt.Fprintf(&b, "Reported:\n\n%s\n\n", indent(c.Bad))
	fmt.Fprintf(&b, "Fixed:\n\n%s\n\n", indent(c.Good))
	b.WriteString("Silence a deliberate case with //mprace:ignore <reason> (or //nolint:mprace) on its line.\n")
	return b.String()
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n")
}
