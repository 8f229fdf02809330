package lsp

import (
	"testing"

	"go.lsp.dev/protocol"
)

// TestMapper converts positions in a line with a two-byte, a three-byte and
// a four-byte (two UTF-16 units) character, in each encoding, both ways.
func TestMapper(t *testing.T) {
	text := []byte("package p\n\nvar s = \"é€😀x\"\n")
	x := len("package p\n\nvar s = \"é€😀") // the byte offset of x
	for _, tc := range []struct {
		enc  encoding
		char uint32
	}{
		{utf16, 9 + 1 + 1 + 2}, // var s = " is 9 units; é, €: one each; 😀: two
		{utf8Enc, 9 + 2 + 3 + 4},
		{utf32, 9 + 1 + 1 + 1},
	} {
		m := newMapper(text, tc.enc)
		want := protocol.Position{Line: 2, Character: tc.char}
		if got := m.position(x); got != want {
			t.Errorf("enc %d: position(%d) = %v, want %v", tc.enc, x, got, want)
		}
		if got, err := m.offset(want); err != nil || got != x {
			t.Errorf("enc %d: offset(%v) = %d, %v; want %d", tc.enc, want, got, err, x)
		}
	}
	m := newMapper(text, utf16)
	// Past the end of a line is its end; one line past the last is the end
	// of the text; further is an error.
	if got, err := m.offset(protocol.Position{Line: 0, Character: 99}); err != nil || got != len("package p") {
		t.Errorf("offset past the end of line 1 = %d, %v", got, err)
	}
	if got, err := m.offset(protocol.Position{Line: 4}); err != nil || got != len(text) {
		t.Errorf("offset of the line after the last = %d, %v", got, err)
	}
	if _, err := m.offset(protocol.Position{Line: 9}); err == nil {
		t.Error("offset of line 10 of a 4-line text: no error")
	}
}
