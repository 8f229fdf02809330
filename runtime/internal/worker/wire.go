package worker

// The protocol's messages travel as frames: a 4-byte little-endian length,
// then the payload: the fields in order, integers as uvarints and strings and byte slices
// as a uvarint length and the bytes. Two fixed message types do not need a
// self-describing encoding, and gob's costs every worker at its start: it
// compiles an encoder and a decoder per type, and sends and parses the type
// descriptions, in each new process.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxFrame bounds a frame, so that a corrupt length cannot make the reader
// allocate without end. An argument of an entry must fit in it.
const maxFrame = 1 << 30

// maxSentinels bounds the sentinel names of one reply, for the same reason.
const maxSentinels = 1024

var errFrame = errors.New("malformed protocol frame")

// newFrame starts a frame with room for its length, which sealFrame fills
// in once the fields are appended: the message is built in place, and an
// argument of any size is copied once.
func newFrame(size int) []byte { return make([]byte, 4, 4+size) }

func sealFrame(b []byte) []byte {
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// frameSize is the length of frame's payload.
func frameSize(frame []byte) int { return len(frame) - 4 }

// writeFrame writes a sealed frame in one write: a reply and its length
// arrive together, and a pipe keeps writes of up to PIPE_BUF bytes whole.
func writeFrame(w io.Writer, frame []byte) error {
	if frameSize(frame) > maxFrame {
		return fmt.Errorf("message of %d bytes, at most %d can be sent", frameSize(frame), maxFrame)
	}
	_, err := w.Write(frame)
	return err
}

// readFrame reads one frame's payload.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxFrame {
		return nil, fmt.Errorf("%w: length %d is over %d", errFrame, size, maxFrame)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return payload, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// marshal returns q as a sealed frame.
func (q request) marshal() []byte {
	b := appendString(newFrame(len(q.Name)+len(q.Arg)+3*binary.MaxVarintLen64), q.Name)
	b = binary.AppendUvarint(b, uint64(q.Files))
	b = binary.AppendUvarint(b, uint64(len(q.Arg)))
	return sealFrame(append(b, q.Arg...))
}

func (q *request) unmarshal(b []byte) error {
	d := decoder{b: b}
	q.Name = d.string()
	q.Files = d.int()
	q.Arg = d.bytes()
	return d.end()
}

// marshal returns m as a sealed frame.
func (m reply) marshal() []byte {
	b := append(newFrame(64+len(m.Msg)+len(m.Stack)), byte(m.Kind))
	b = binary.AppendUvarint(b, uint64(m.Version))
	b = append(b, byte(m.Reason))
	b = appendString(b, m.Msg)
	b = binary.AppendUvarint(b, uint64(len(m.Sentinels)))
	for _, s := range m.Sentinels {
		b = appendString(b, s)
	}
	return sealFrame(appendString(b, m.Stack))
}

func (m *reply) unmarshal(b []byte) error {
	d := decoder{b: b}
	m.Kind = replyKind(d.byte())
	m.Version = d.int()
	m.Reason = refusal(d.byte())
	m.Msg = d.string()
	n := d.int()
	if n > maxSentinels {
		return fmt.Errorf("%w: %d sentinel names", errFrame, n)
	}
	for range n {
		m.Sentinels = append(m.Sentinels, d.string())
	}
	m.Stack = d.string()
	return d.end()
}

// decoder reads fields off a payload. The first error sticks: later reads
// return zero values and end reports it.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or bad %s", errFrame, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) int() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > maxFrame {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.int()
	if n > len(d.b) {
		d.fail("length")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d bytes left over", errFrame, len(d.b))
	}
	return d.err
}
