package codec

import (
	"fmt"
	"reflect"
	"sync"
)

// Interface values travel with the name of their dynamic type, which the
// receiver must map back to a type: the built-in types below (those
// encoding/gob registers itself, and the []any and map[string]any of
// JSON-like data) and the types programs register. The table is built on
// first use, so a process that never sends an interface value pays nothing.
var names struct {
	once   sync.Once
	mu     sync.RWMutex
	byName map[string]reflect.Type
	byType map[reflect.Type]string
}

func builtins() {
	names.byName = make(map[string]reflect.Type)
	names.byType = make(map[reflect.Type]string)
	for _, x := range []any{
		false, 0, int8(0), int16(0), int32(0), int64(0),
		uint(0), uint8(0), uint16(0), uint32(0), uint64(0), uintptr(0),
		0.0, float32(0), complex64(0), complex128(0), "",
		[]bool(nil), []int(nil), []int8(nil), []int16(nil), []int32(nil), []int64(nil),
		[]uint(nil), []byte(nil), []uint16(nil), []uint32(nil), []uint64(nil), []uintptr(nil),
		[]float64(nil), []float32(nil), []complex64(nil), []complex128(nil), []string(nil),
		[]any(nil), map[string]any(nil),
	} {
		t := reflect.TypeOf(x)
		names.byName[t.String()] = t
		names.byType[t] = t.String()
	}
}

// typeName is what t travels as: its package path and name when it has
// them, so that two packages' types of one name stay apart.
func typeName(t reflect.Type) string {
	switch {
	case t.Name() != "" && t.PkgPath() != "":
		return t.PkgPath() + "." + t.Name()
	case t.Kind() == reflect.Pointer:
		return "*" + typeName(t.Elem())
	}
	return t.String()
}

// Register lets values of t travel in interfaces, as gob.Register does for
// gob. Registering a type twice is harmless; a different type of the same
// name is an error.
func Register(t reflect.Type) error {
	if _, err := codecFor(t); err != nil {
		return fmt.Errorf("codec: register %s: %w", t, err)
	}
	names.once.Do(builtins)
	name := typeName(t)
	names.mu.Lock()
	defer names.mu.Unlock()
	if old, ok := names.byName[name]; ok && old != t {
		return fmt.Errorf("codec: register %s: the name %q is taken by another type", t, name)
	}
	names.byName[name] = t
	names.byType[t] = name
	return nil
}

func nameOf(t reflect.Type) (string, bool) {
	names.once.Do(builtins)
	names.mu.RLock()
	defer names.mu.RUnlock()
	name, ok := names.byType[t]
	return name, ok
}

func typeNamed(name string) (reflect.Type, bool) {
	names.once.Do(builtins)
	names.mu.RLock()
	defer names.mu.RUnlock()
	t, ok := names.byName[name]
	return t, ok
}
