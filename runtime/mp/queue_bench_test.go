package mp

// Queue benchmarks with their baselines in the same run: an in-process Go
// channel, and the same messages over a Unix SOCK_SEQPACKET socket pair (one
// send and one receive per message, the same bytes the Queue copies). These
// run producers and consumers as goroutines of one process; the
// cross-process figures are in queue_proc_test.go.

import (
	"fmt"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

type benchShape struct {
	name     string
	size     int // message bytes; 8 means an int64
	prod, co int
}

var benchShapes = []benchShape{
	{"8B/1x1", 8, 1, 1},
	{"8B/4x4", 8, 4, 4},
	{"64KiB/1x1", 64 << 10, 1, 1},
}

// runPairs runs prod producers and co consumers moving b.N messages in all.
func runPairs(b *testing.B, s benchShape, put func(i int) error, get func() error) {
	b.Helper()
	b.SetBytes(int64(s.size))
	var wg sync.WaitGroup
	b.ResetTimer()
	for p := 0; p < s.prod; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < share(b.N, s.prod, p); i++ {
				if err := put(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for c := 0; c < s.co; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < share(b.N, s.co, c); i++ {
				if err := get(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// share is part k's share of total split into parts.
func share(total, parts, k int) int {
	n := total / parts
	if k < total%parts {
		n++
	}
	return n
}

func BenchmarkQueue(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			if s.size == 8 {
				q := mustQueue[int64](b, WithCapacity(4096))
				runPairs(b, s, func(i int) error { return q.Put(int64(i)) },
					func() error { _, err := q.Get(); return err })
				return
			}
			q := mustQueue[[]byte](b, WithByteCapacity(8*s.size+64))
			msg := make([]byte, s.size)
			runPairs(b, s, func(int) error { return q.Put(msg) },
				func() error { _, err := q.Get(); return err })
		})
	}
}

func BenchmarkChan(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			if s.size == 8 {
				ch := make(chan int64, 4096)
				runPairs(b, s, func(i int) error { ch <- int64(i); return nil },
					func() error { <-ch; return nil })
				return
			}
			// The channel passes the slice, not its bytes: the copy a
			// process boundary forces is made here so that the figures
			// compare like with like.
			ch := make(chan []byte, 8)
			msg := make([]byte, s.size)
			runPairs(b, s, func(int) error { ch <- append([]byte(nil), msg...); return nil },
				func() error { <-ch; return nil })
		})
	}
}

func BenchmarkUnixSocket(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(fds[0])
			defer unix.Close(fds[1])
			if s.size > 8 {
				// Room for a few messages in flight, as the Queue has.
				for _, fd := range fds {
					unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8*s.size)
					unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8*s.size)
				}
			}
			msg := make([]byte, s.size)
			runPairs(b, s, func(int) error {
				_, err := unix.Write(fds[0], msg)
				return err
			}, func() error {
				// A fresh buffer per large message, as Queue.Get returns
				// one; an int64 lands in a variable, as with the Queue.
				var word [8]byte
				buf := word[:]
				if s.size > 8 {
					buf = make([]byte, s.size)
				}
				n, err := unix.Read(fds[1], buf)
				if err == nil && n != s.size {
					err = fmt.Errorf("read %d bytes of %d", n, s.size)
				}
				return err
			})
		})
	}
}
