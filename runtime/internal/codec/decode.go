package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// decoder reads a message that may come from a corrupt or hostile segment:
// every length and count is checked against what is left before it is
// used, so a bad message is an error, never a panic or a huge allocation.
type decoder struct {
	b []byte // what is left
	nesting
}

var errShort = errors.New("message ends early")

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, errShort
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errors.New("bad unsigned varint")
	}
	d.b = d.b[n:]
	return x, nil
}

// count reads an element count and checks that what is left can hold that
// many elements of at least min bytes each.
func (d *decoder) count(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)/min) {
		return 0, fmt.Errorf("%d elements cannot fit in the %d bytes left", n, len(d.b))
	}
	return int(n), nil
}

// countPlus1 reads the count n+1 of a slice or map, as count does; a nil
// slice or map, written as 0, is -1.
func (d *decoder) countPlus1(min int) (int, error) {
	n, err := d.uvarint()
	if err != nil || n == 0 {
		return -1, err
	}
	if n-1 > uint64(len(d.b)/min) {
		return 0, fmt.Errorf("%d elements cannot fit in the %d bytes left", n-1, len(d.b))
	}
	return int(n - 1), nil
}

// bytes returns the next length-prefixed bytes, which alias the message.
func (d *decoder) bytes() ([]byte, error) {
	n, err := d.count(1)
	if err != nil {
		return nil, err
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s, nil
}

func (d *decoder) fixed64() (uint64, error) {
	if len(d.b) < 8 {
		return 0, errShort
	}
	x := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return x, nil
}

func decBool(d *decoder, v reflect.Value) error {
	c, err := d.byte()
	if err != nil {
		return err
	}
	if c > 1 {
		return fmt.Errorf("bool encoded as %d", c)
	}
	v.SetBool(c == 1)
	return nil
}

func decInt(d *decoder, v reflect.Value) error {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		return errors.New("bad signed varint")
	}
	d.b = d.b[n:]
	if v.OverflowInt(x) {
		return fmt.Errorf("%d overflows %s", x, v.Type())
	}
	v.SetInt(x)
	return nil
}

func decUint(d *decoder, v reflect.Value) error {
	x, err := d.uvarint()
	if err != nil {
		return err
	}
	if v.OverflowUint(x) {
		return fmt.Errorf("%d overflows %s", x, v.Type())
	}
	v.SetUint(x)
	return nil
}

func decFloat(d *decoder, v reflect.Value) error {
	x, err := d.fixed64()
	if err != nil {
		return err
	}
	f := math.Float64frombits(x)
	if v.OverflowFloat(f) {
		return fmt.Errorf("%g overflows %s", f, v.Type())
	}
	v.SetFloat(f)
	return nil
}

func decComplex(d *decoder, v reflect.Value) error {
	re, err := d.fixed64()
	if err != nil {
		return err
	}
	im, err := d.fixed64()
	if err != nil {
		return err
	}
	c := complex(math.Float64frombits(re), math.Float64frombits(im))
	if v.OverflowComplex(c) {
		return fmt.Errorf("%g overflows %s", c, v.Type())
	}
	v.SetComplex(c)
	return nil
}

func decString(d *decoder, v reflect.Value) error {
	s, err := d.bytes()
	if err != nil {
		return err
	}
	v.SetString(string(s))
	return nil
}

func decByteSlice(d *decoder, v reflect.Value) error {
	s, err := d.bytes()
	if err != nil {
		return err
	}
	if len(s) > 0 {
		v.SetBytes(append(reflect.MakeSlice(v.Type(), 0, len(s)).Bytes(), s...))
	}
	return nil
}

func decByteArray(d *decoder, v reflect.Value) error {
	s, err := d.bytes()
	if err != nil {
		return err
	}
	if len(s) != v.Len() {
		return fmt.Errorf("%d elements for a %s", len(s), v.Type())
	}
	copy(v.Bytes(), s)
	return nil
}

func (d *decoder) slice(elem *typeCodec, v reflect.Value) error {
	n, err := d.countPlus1(elem.min)
	if err != nil || n < 0 {
		return err // -1: a nil slice
	}
	s := reflect.MakeSlice(v.Type(), n, n)
	if err := d.elements(elem, s); err != nil {
		return err
	}
	v.Set(s)
	return nil
}

func (d *decoder) array(elem *typeCodec, v reflect.Value) error {
	n, err := d.count(elem.min)
	if err != nil {
		return err
	}
	if n != v.Len() {
		return fmt.Errorf("%d elements for a %s", n, v.Type())
	}
	return d.elements(elem, v)
}

// elements decodes every element of s, a new slice or an array.
func (d *decoder) elements(elem *typeCodec, s reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	for i := range s.Len() {
		if err := elem.dec(d, s.Index(i)); err != nil {
			return at(err, fmt.Sprintf("element %d", i))
		}
	}
	return nil
}

func (d *decoder) mapping(key, elem *typeCodec, v reflect.Value) error {
	n, err := d.countPlus1(key.min + elem.min)
	if err != nil || n < 0 {
		return err // -1: a nil map
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	m := reflect.MakeMapWithSize(v.Type(), n)
	k, x := reflect.New(key.t).Elem(), reflect.New(elem.t).Elem()
	for range n {
		k.SetZero()
		x.SetZero()
		if err := key.dec(d, k); err != nil {
			return at(err, "key")
		}
		if err := elem.dec(d, x); err != nil {
			return at(err, "element")
		}
		m.SetMapIndex(k, x)
	}
	v.Set(m)
	return nil
}

func (d *decoder) pointer(elem *typeCodec, v reflect.Value) error {
	c, err := d.byte()
	switch {
	case err != nil:
		return err
	case c == 0:
		return nil
	case c != 1:
		return fmt.Errorf("pointer flag %d", c)
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	p := reflect.New(elem.t)
	if err := elem.dec(d, p.Elem()); err != nil {
		return err
	}
	v.Set(p)
	return nil
}

func (d *decoder) structure(fields []field, byName map[string]int, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	n, err := d.count(6) // a field takes at least a name length, a kind, a length
	if err != nil {
		return err
	}
	for i := range n {
		name, err := d.bytes()
		if err != nil {
			return err
		}
		k, err := d.byte()
		if err != nil {
			return err
		}
		if len(d.b) < 4 {
			return errShort
		}
		size := binary.LittleEndian.Uint32(d.b)
		d.b = d.b[4:]
		if uint64(size) > uint64(len(d.b)) {
			return fmt.Errorf("field %s: %d bytes, %d left", name, size, len(d.b))
		}
		body := d.b[:size]
		d.b = d.b[size:]
		j := i
		if j >= len(fields) || fields[j].name != string(name) {
			var ok bool
			if j, ok = byName[string(name)]; !ok {
				continue // a field the receiver's version of the type does not have
			}
		}
		f := fields[j]
		if kind(k) != f.tc.kind {
			return fmt.Errorf("field %s was sent as a %s, not a %s (%s)", f.name, kind(k), f.tc.kind, f.tc.t)
		}
		sub := decoder{b: body, nesting: d.nesting}
		if err := f.tc.dec(&sub, v.Field(f.index)); err != nil {
			return at(err, "field "+f.name)
		}
		if len(sub.b) != 0 {
			return fmt.Errorf("field %s: %d bytes left over", f.name, len(sub.b))
		}
	}
	return nil
}

func decInterface(d *decoder, v reflect.Value) error {
	name, err := d.bytes()
	if err != nil || len(name) == 0 {
		return err // empty: a nil interface
	}
	t, ok := typeNamed(string(name))
	if !ok {
		return fmt.Errorf("%q in an interface: %w here (register it with mp.Register)", name, ErrUnregistered)
	}
	if !t.Implements(v.Type()) {
		return fmt.Errorf("%s does not implement %s", t, v.Type())
	}
	tc, err := codecFor(t)
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	x := reflect.New(t).Elem()
	if err := tc.dec(d, x); err != nil {
		return at(err, t.String()+" in an interface")
	}
	v.Set(x)
	return nil
}
