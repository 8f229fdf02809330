// Package mpmain defines an Analyzer that checks how a program hands control
// to runtime/mp's worker processes.
//
// # Analyzer mpmain
//
// mpmain: report programs whose workers cannot start
//
// A worker started by Func.Start is the same program, executed again. It
// finds the worker's function by the name mp.NewFunc registered it under,
// which package-level variable initialisers do before main runs, and mp.Main,
// called first thing in main (and in TestMain for tests), hands it that
// function. The check reports:
//
//   - a program that registers or starts workers whose main (or a test
//     package's TestMain) never calls mp.Main: the worker runs main again,
//     and Start fails with mp.ErrNoMain after waiting for it. The suggested
//     fix inserts mp.Main() as main's first statement. TestMain is checked
//     when the package starts workers, its test files register them, or it
//     is the external test of a package that registers them;
//   - mp.Main called, but not as the first statement: what comes before it
//     runs again in every worker;
//   - mp.NewFunc called in a function body (other than init, or a function
//     that returns the *mp.Func it makes): a worker does not run that
//     function before it looks the name up, so it fails with
//     mp.ErrNotRegistered.
//
// A call of a function of the same package whose first statement calls
// mp.Main counts as calling it.
package mpmain
