// Package rawtype defines an Analyzer that checks the types runtime/mp's
// constructors are instantiated with.
//
// # Analyzer rawtype
//
// rawtype: report runtime/mp handles of types the runtime refuses
//
// Value and Array hold their elements raw in shared memory, so they accept
// only numbers, booleans, and arrays and structs of them: mp.NewValue and
// mp.NewArray of a type with a pointer, string, slice, map, channel, function
// or interface anywhere in it fail at run time with mp.ErrPointers. The check
// reports them at compile time with the path of the offending field, as the
// runtime's error does. (NewInt and NewIntArray are constrained to integers:
// the compiler already refuses anything else.)
//
// Queue, JoinableQueue, Pipe, Dict and List copy pointer-free items raw and
// encode the others in runtime/mp's own format (runtime/internal/codec), as
// do the inputs and results of a Pool (mp.NewPoolFunc); a worker's argument
// (mp.NewFunc) is always encoded, raw or not. The check reports the types the
// codec refuses, which fail at run time with an error at the first Put, Send,
// Set or Start (for a Pool, every task fails):
//
//   - a channel, function or unsafe.Pointer anywhere in the type: at top
//     level, as an element, a map key or value, through pointers, or as an
//     exported struct field, which encoding/gob used to drop silently;
//   - a struct that has fields but no exported one, since nothing of it
//     would arrive (struct{} is fine);
//   - a type with an encoding method (GobEncode, MarshalBinary, MarshalText)
//     whose pointer lacks the matching decoding method.
//
// It follows the codec's rules: unexported fields are skipped, as the codec
// skips them, and never judged; types with an encoding method and its
// decoding one encode themselves (the runtime/mp handles, time.Time) and are
// not looked into; interface values are not judged, since their dynamic
// types must be built in or given to mp.Register, which only the run time
// sees; and a Queue or Pipe given its own codec with mp.WithCodec (or options
// the check cannot see) is not checked.
package rawtype
