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
// Queue, Dict and List copy pointer-free items raw and encode the others with
// encoding/gob, and a worker's argument (mp.NewFunc) travels by gob too. The
// check reports the types gob refuses, which fail at the first Put, Set or
// Start: channels, functions and unsafe.Pointer outside struct fields, and
// structs none of whose fields gob sends (unexported fields and fields of
// channel or function type are not sent). It also reports exported struct
// fields of channel or function type, which gob silently drops: they arrive
// as nil in the other process. It follows gob's rules: types with a
// GobEncode, MarshalBinary or MarshalText method encode themselves (the
// runtime/mp handles do), interface values are not judged (their dynamic
// types are registered at run time), and a Queue given its own codec with
// mp.WithCodec (or options the check cannot see) is not checked.
package rawtype
