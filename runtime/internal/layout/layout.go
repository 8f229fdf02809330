// Package layout decides which Go types may live raw in shared memory and
// fingerprints types so that a process attaching to a shared object can tell
// whether it was made for the same type.
package layout

import (
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"strings"
)

// ErrNotRaw reports a type that cannot be stored as raw bytes in shared
// memory: it holds pointers (which mean nothing in another process) or has
// no fixed size.
var ErrNotRaw = errors.New("type holds pointers")

// Raw returns nil if values of t can be copied byte for byte between
// processes: booleans, numbers, and arrays and structs of them. Otherwise it
// names the offending part of t.
func Raw(t reflect.Type) error {
	if path, kind, ok := firstPointer(t, ""); !ok {
		where := t.String()
		if path != "" {
			where += path
		}
		return fmt.Errorf("%w: %s is a %s, which has no meaning in another process", ErrNotRaw, where, kind)
	}
	return nil
}

func firstPointer(t reflect.Type, path string) (string, reflect.Kind, bool) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uintptr, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return "", 0, true
	case reflect.Array:
		return firstPointer(t.Elem(), path+"[i]")
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if p, k, ok := firstPointer(f.Type, path+"."+f.Name); !ok {
				return p, k, false
			}
		}
		return "", 0, true
	default:
		return path, t.Kind(), false
	}
}

// Fingerprint hashes t's name and memory layout. Two types with the same
// fingerprint have the same size, alignment and field offsets, so bytes
// written as one can be read as the other.
func Fingerprint(t reflect.Type) uint64 {
	var b strings.Builder
	b.WriteString(t.String())
	b.WriteByte('|')
	describe(&b, t)
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	return h.Sum64()
}

func describe(b *strings.Builder, t reflect.Type) {
	b.WriteString(t.Kind().String())
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(uint64(t.Size()), 10))
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(t.Align()))
	switch t.Kind() {
	case reflect.Array:
		b.WriteString("[" + strconv.Itoa(t.Len()) + "]")
		describe(b, t.Elem())
	case reflect.Struct:
		b.WriteByte('{')
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			b.WriteString(f.Name + "@" + strconv.FormatUint(uint64(f.Offset), 10) + " ")
			describe(b, f.Type)
			b.WriteByte(';')
		}
		b.WriteByte('}')
	}
}
