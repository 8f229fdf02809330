package codec

// The value format, which Value[T] writes and reads. It is ours rather than
// encoding/gob's because gob's package initialisation (the type table of
// every basic type, built whether or not anything is encoded) costs each new
// process about 2 ms of CPU here, a fifth of a worker's start; this format
// compiles nothing until a type is first used.
//
// A message is formatVersion, then one value:
//
//	bool               one byte, 0 or 1
//	int kinds          zigzag varint; uint kinds: uvarint
//	float kinds        8 bytes, little-endian IEEE 754 binary64
//	complex kinds      two floats
//	string, []byte     uvarint length, then the bytes
//	slice, map         uvarint n+1 (0 for nil), then n elements (key, value pairs for a map)
//	array              uvarint length, then the elements
//	pointer            one byte, 0 for nil, then the element
//	struct             uvarint count of fields, then per exported field: uvarint
//	                   length and name, its kind byte, a 4-byte little-endian
//	                   length and its value
//	interface          uvarint length and name of the dynamic type (0: nil),
//	                   then its value
//	self-encoding      uvarint length, then what GobEncode, MarshalBinary or
//	                   MarshalText returned
//
// Struct fields are matched by name, so two programs with different versions
// of a type still exchange the fields they share (behind an interface: the
// containers check that their own T is one type everywhere): unknown fields
// are skipped by their length, missing ones stay zero, and a field whose kind
// differs is an error that names it.

const formatVersion = 1

// kind is a wire kind: what a struct field's bytes hold, recorded so that a
// receiver whose field of that name has another type says so.
type kind byte

const (
	kBool kind = 1 + iota
	kInt
	kUint
	kFloat
	kComplex
	kBytes // string and []byte
	kList  // slice and array
	kMap
	kPointer
	kStruct
	kInterface
	kSelf // GobEncode, MarshalBinary or MarshalText
)

var kindNames = [...]string{
	kBool: "bool", kInt: "signed integer", kUint: "unsigned integer", kFloat: "float", kComplex: "complex",
	kBytes: "string or []byte", kList: "slice or array", kMap: "map", kPointer: "pointer", kStruct: "struct",
	kInterface: "interface", kSelf: "self-encoded value",
}

func (k kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown kind"
}

// maxDepth bounds nesting, so that a cycle of pointers or a hostile message
// ends in an error instead of exhausting the stack.
const maxDepth = 1 << 16

// maxField is the largest struct field value: its length is 4 bytes.
const maxField = 1<<32 - 1
