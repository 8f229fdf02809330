package codec

// The item codec against what it replaced: a self-contained gob stream per
// message (a fresh Encoder and Decoder each time, type description
// included, since any process may decode any message alone). Run with
//
//	go test -run '^$' -bench . -count 10 ./runtime/internal/codec | benchstat -col /codec -

import (
	"bytes"
	"encoding/gob"
	"testing"
)

type job struct {
	ID    int64
	Name  string
	Tags  []string
	Attrs map[string]int
	Next  *job
}

var benchJob = job{ID: 42, Name: "resize image 42", Tags: []string{"img", "urgent"},
	Attrs: map[string]int{"w": 640, "h": 480}, Next: &job{ID: 43, Name: "upload"}}

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("codec=mp", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = Append(buf[:0], benchJob); err != nil {
				b.Fatal(err)
			}
			if _, err := Decode[job](buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "bytes/msg")
	})
	b.Run("codec=gob", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(&benchJob); err != nil {
				b.Fatal(err)
			}
			var x job
			if err := gob.NewDecoder(bytes.NewReader(buf.Bytes())).Decode(&x); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes/msg")
	})
}
