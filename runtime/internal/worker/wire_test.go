package worker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	reqs := []request{
		{},
		{Name: "pool.worker", Files: 3, Arg: []byte("argument\x00bytes")},
		{Name: strings.Repeat("n", 300), Files: maxFiles, Arg: bytes.Repeat([]byte{0xff}, 1<<17)},
	}
	for _, q := range reqs {
		var buf bytes.Buffer
		if err := writeFrame(&buf, q.marshal()); err != nil {
			t.Fatal(err)
		}
		frame, err := readFrame(bufio.NewReader(&buf))
		if err != nil {
			t.Fatal(err)
		}
		var got request
		if err := got.unmarshal(frame); err != nil {
			t.Fatalf("unmarshal %q: %v", q.Name, err)
		}
		if got.Name != q.Name || got.Files != q.Files || !bytes.Equal(got.Arg, q.Arg) {
			t.Fatalf("request %+.40v came back as %+.40v", q, got)
		}
	}
	replies := []reply{
		{Kind: replyHello, Version: protocolVersion},
		{Kind: replyRefused, Reason: refusedSetup, Msg: "setup: no arena"},
		{Kind: replyError, Msg: "boom", Sentinels: []string{"mp.ErrClosed", "pkg.ErrX"}},
		{Kind: replyPanic, Msg: "index out of range", Stack: "goroutine 1 [running]:\nmain.f()\n"},
	}
	// Replies share one stream, as they do on the pipe.
	var buf bytes.Buffer
	for _, m := range replies {
		if err := writeFrame(&buf, m.marshal()); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for _, want := range replies {
		frame, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		var got reply
		if err := got.unmarshal(frame); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("reply %+v came back as %+v", want, got)
		}
	}
	if _, err := readFrame(r); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestWireRejectsMalformed(t *testing.T) {
	good := payload(reply{Kind: replyError, Msg: "boom", Sentinels: []string{"a"}}.marshal())
	for i := range len(good) {
		var m reply
		if err := m.unmarshal(good[:i]); !errors.Is(err, errFrame) {
			t.Fatalf("reply cut to %d of %d bytes: %v, want errFrame", i, len(good), err)
		}
	}
	var m reply
	if err := m.unmarshal(append(good, 0)); !errors.Is(err, errFrame) {
		t.Fatalf("reply with a byte left over: %v, want errFrame", err)
	}
	many := binary.AppendUvarint([]byte{byte(replyError), 0, 0, 0}, maxSentinels+1)
	if err := m.unmarshal(many); !errors.Is(err, errFrame) {
		t.Fatalf("reply claiming %d sentinels: %v, want errFrame", maxSentinels+1, err)
	}
	var q request
	huge := binary.AppendUvarint(nil, 1<<40)
	if err := q.unmarshal(huge); !errors.Is(err, errFrame) {
		t.Fatalf("request with a name of 2^40 bytes: %v, want errFrame", err)
	}

	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], maxFrame+1)
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(n[:]))); !errors.Is(err, errFrame) {
		t.Fatalf("frame longer than maxFrame: %v, want errFrame", err)
	}
	binary.LittleEndian.PutUint32(n[:], 10)
	short := append(n[:], "abc"...)
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(short))); err != io.ErrUnexpectedEOF {
		t.Fatalf("frame cut short: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := readFrame(bufio.NewReader(bytes.NewReader(n[:2]))); err != io.ErrUnexpectedEOF {
		t.Fatalf("length cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}

func FuzzReplyUnmarshal(f *testing.F) {
	f.Add(payload(reply{Kind: replyPanic, Msg: "m", Sentinels: []string{"s"}, Stack: "st"}.marshal()))
	f.Add(payload(request{Name: "n", Files: 2, Arg: []byte("a")}.marshal()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m reply
		if m.unmarshal(b) != nil {
			return
		}
		// Varints need not be minimal, so the bytes may differ; the value
		// may not.
		var again reply
		if err := again.unmarshal(payload(m.marshal())); err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%q decodes to %+v, which comes back as %+v, %v", b, m, again, err)
		}
		var q request
		_ = q.unmarshal(b)
	})
}

// payload is a sealed frame's payload, what unmarshal reads, after checking
// that the frame's length says its size.
func payload(frame []byte) []byte {
	if int(binary.LittleEndian.Uint32(frame)) != frameSize(frame) {
		panic(fmt.Sprintf("frame of %d bytes says %d", len(frame), binary.LittleEndian.Uint32(frame)))
	}
	return frame[4:]
}
