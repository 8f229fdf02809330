// Package mp brings Python's multiprocessing primitives to Go on Linux: a
// cross-process Lock, shared Value and Array cells, a Queue, Dict and List,
// a Manager that unrelated programs open by name, and worker processes
// started by re-executing the program, all over mmap'd shared memory.
//
// The first shared object a program makes creates the arena, a sparse memfd
// of MPRACE_ARENA_SIZE bytes (1 GiB of address space by default, memory used
// only as objects are written). Workers started with Func.Start inherit it,
// so any object made by any process of the family can be sent to any other,
// as a worker argument, and used there. The memfd vanishes with the last
// process of the family: a crash leaves nothing behind under /dev/shm.
//
// Objects hold only values that mean the same in every process: Value and
// Array accept fixed-size types without pointers (numbers, booleans, and
// arrays and structs of them) and refuse others at construction. Queue, Dict
// and List take any type: pointer-free ones travel raw, strings and byte
// slices as they are, others in a compact self-describing format of this
// package's own (exported fields matched by name, as encoding/gob does;
// GobEncode, MarshalBinary and MarshalText honoured; interface values for
// built-in types and those given to Register), in which handles encode
// themselves as references to the same shared objects. It is not gob
// because gob's initialisation alone would cost every worker's start a
// fifth more CPU.
//
// A Manager is a named arena in $XDG_RUNTIME_DIR, or /dev/shm without one
// (mode 0600), holding any shared object by name, for programs that are not
// of one family: a daemon creates it, a command-line tool opens it by name.
//
// Every handle has a safe read-modify-write. Int and IntArray have atomic
// Add, CompareAndSwap and Swap; every Value and Array has Update, which runs
// a function under the handle's own lock. The mprace analyzers
// (github.com/mprace/mprace/cmd/mprace) report the unsafe spelling,
// v.Store(v.Load()+1), and suggest these.
//
// A process that dies holding a Lock does not wedge its family: the next
// process that waits for the lock takes it over within a second and, through
// LockContext, is told so with ErrOwnerDead.
//
// Beside these, the rest of Python's multiprocessing: a Pool of worker
// processes (NewPoolFunc, NewPool: Map, Unordered, Submit), RLock,
// Semaphore and BoundedSemaphore, Event, Condition, Barrier, JoinableQueue,
// Pipe, a shared Set, and SharedMemory, the named raw block Python's
// multiprocessing.shared_memory opens under the same name. Each survives a
// process that dies while using it: a pool worker's death fails only the
// input it ran, a dead holder's semaphore permits come back, a barrier whose
// party died breaks, a dead pipe peer reads as closed.
//
// Programs that start workers call Main first thing in main (and in TestMain
// for tests): in a re-executed worker it runs the worker's function and exits.
package mp
