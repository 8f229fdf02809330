package lsp

import (
	"fmt"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// encoding is the unit in which an LSP position counts a line's characters:
// UTF-16 code units unless client and server agreed on another
// (LSP 3.17 positionEncoding; gopls agrees to UTF-8 when offered).
type encoding int

const (
	utf16 encoding = iota
	utf8Enc
	utf32
)

func parseEncoding(s string) encoding {
	switch s {
	case "utf-8":
		return utf8Enc
	case "utf-32":
		return utf32
	}
	return utf16
}

// mapper converts between byte offsets in a file's contents and LSP
// positions.
type mapper struct {
	text  []byte
	lines []int // byte offset of the start of each line
	enc   encoding
}

func newMapper(text []byte, enc encoding) *mapper {
	lines := []int{0}
	for i, b := range text {
		if b == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &mapper{text: text, lines: lines, enc: enc}
}

// offset returns the byte offset of p. A character past the end of its line
// means the line's end, as the protocol says; a line past the end of the
// text is an error.
func (m *mapper) offset(p protocol.Position) (int, error) {
	line := int(p.Line)
	if line >= len(m.lines) {
		if line == len(m.lines) && p.Character == 0 {
			return len(m.text), nil
		}
		return 0, fmt.Errorf("line %d is past the end of the text (%d lines)", line+1, len(m.lines))
	}
	off, end := m.lines[line], len(m.text)
	if line+1 < len(m.lines) {
		end = m.lines[line+1] - 1 // the newline
	}
	for units := uint32(0); off < end && units < p.Character; {
		r, size := utf8.DecodeRune(m.text[off:end])
		units += m.units(r, size)
		off += size
	}
	return off, nil
}

// position returns the LSP position of a byte offset (clamped to the text).
func (m *mapper) position(off int) protocol.Position {
	off = max(0, min(off, len(m.text)))
	line := 0
	for lo, hi := 0, len(m.lines)-1; lo <= hi; {
		mid := (lo + hi) / 2
		if m.lines[mid] <= off {
			line, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	var units uint32
	for i := m.lines[line]; i < off; {
		r, size := utf8.DecodeRune(m.text[i:off])
		units += m.units(r, size)
		i += size
	}
	return protocol.Position{Line: uint32(line), Character: units}
}

func (m *mapper) rangeOf(start, end int) protocol.Range {
	return protocol.Range{Start: m.position(start), End: m.position(end)}
}

func (m *mapper) units(r rune, size int) uint32 {
	switch m.enc {
	case utf8Enc:
		return uint32(size)
	case utf32:
		return 1
	}
	if r >= 0x10000 {
		return 2
	}
	return 1
}
