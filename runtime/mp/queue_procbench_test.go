package mp_test

// Queue benchmarks across processes, with the baselines in the same run: the
// same messages over a Unix SOCK_SEQPACKET connection between the test
// process and a worker, and through Python's multiprocessing.Queue. Worker
// start-up is outside the timed region.

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mprace/mprace/runtime/mp"
)

type benchSide struct {
	Words *mp.Queue[int64]  // 8-byte items, or nil
	Blobs *mp.Queue[[]byte] // byte-slice items, or nil
	Gate  *mp.Int[int32]    // producers start when it is 1
	Ready *mp.Int[int32]    // each worker adds 1 once it runs
	N     int
	Size  int
}

var (
	benchGetter = mp.NewFunc("mp_test.benchGet", func(ctx context.Context, a benchSide) error {
		a.Ready.Add(1)
		for i := 0; i < a.N; i++ {
			var err error
			if a.Words != nil {
				_, err = a.Words.Get()
			} else {
				_, err = a.Blobs.Get()
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	benchPutter = mp.NewFunc("mp_test.benchPut", func(ctx context.Context, a benchSide) error {
		a.Ready.Add(1)
		for a.Gate.Load() == 0 {
			time.Sleep(20 * time.Microsecond)
		}
		msg := make([]byte, a.Size)
		for i := 0; i < a.N; i++ {
			var err error
			if a.Words != nil {
				err = a.Words.Put(int64(i))
			} else {
				err = a.Blobs.Put(msg)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	benchSocketReader = mp.NewFunc("mp_test.benchSocket", func(ctx context.Context, a struct {
		Path    string
		N, Size int
	}) error {
		c, err := net.Dial("unixpacket", a.Path)
		if err != nil {
			return err
		}
		defer c.Close()
		var word [8]byte
		for i := 0; i < a.N; i++ {
			buf := word[:]
			if a.Size > 8 {
				buf = make([]byte, a.Size) // a fresh slice, as Queue.Get returns
			}
			if n, err := c.Read(buf); err != nil || n != a.Size {
				return fmt.Errorf("read %d of %d bytes: %v", n, a.Size, err)
			}
		}
		return nil
	})
)

var procShapes = []struct {
	name     string
	size     int
	prod, co int
}{
	{"8B/1x1", 8, 1, 1},
	{"8B/4x4", 8, 4, 4},
	{"64KiB/1x1", 64 << 10, 1, 1},
}

// BenchmarkQueueProcs moves b.N messages from producer processes to
// consumer processes. With one producer, the producer is the test process.
func BenchmarkQueueProcs(b *testing.B) {
	for _, s := range procShapes {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(s.size))
			side := benchSide{Size: s.size}
			var err error
			if s.size == 8 {
				side.Words, err = mp.NewQueue[int64](mp.WithCapacity(4096))
			} else {
				side.Blobs, err = mp.NewQueue[[]byte](mp.WithByteCapacity(8*s.size + 64))
			}
			if err != nil {
				b.Fatal(err)
			}
			if side.Gate, err = mp.NewInt[int32](0); err != nil {
				b.Fatal(err)
			}
			if side.Ready, err = mp.NewInt[int32](0); err != nil {
				b.Fatal(err)
			}
			var procs []*mp.Process
			for c := 0; c < s.co; c++ {
				arg := side
				arg.N = mp.QueueShare(b.N, s.co, c)
				procs = append(procs, start(b, benchGetter, arg))
			}
			if s.prod > 1 {
				for p := 0; p < s.prod; p++ {
					arg := side
					arg.N = mp.QueueShare(b.N, s.prod, p)
					procs = append(procs, start(b, benchPutter, arg))
				}
			}
			awaitReady(b, side.Ready, len(procs))
			b.ResetTimer()
			side.Gate.Store(1)
			if s.prod == 1 {
				msg := make([]byte, s.size)
				for i := 0; i < b.N; i++ {
					if side.Words != nil {
						err = side.Words.Put(int64(i))
					} else {
						err = side.Blobs.Put(msg)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			joinAll(b, procs)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkUnixSocketProcs sends b.N messages from the test process to a
// worker over a Unix SOCK_SEQPACKET connection, one write and one read per
// message, the bytes the Queue would copy.
func BenchmarkUnixSocketProcs(b *testing.B) {
	for _, s := range procShapes {
		if s.prod != 1 {
			continue // a socket connects two ends; there is no 4x4 to compare
		}
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(s.size))
			path := filepath.Join(b.TempDir(), "s")
			l, err := net.Listen("unixpacket", path)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			var conn net.Conn
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); conn, err = l.Accept() }()
			p := start(b, benchSocketReader, struct {
				Path    string
				N, Size int
			}{path, b.N, s.size})
			wg.Wait()
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			if uc, ok := conn.(*net.UnixConn); ok && s.size > 8 {
				uc.SetWriteBuffer(8 * s.size) // as many in flight as the Queue holds
			}
			msg := make([]byte, s.size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := conn.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Join(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPythonQueueProcs is Python's multiprocessing.Queue moving the
// same messages from one process to another (testdata/pyqueue.py), when
// python3 is installed. The script times itself, without Python's start-up,
// over at least a few thousand messages.
func BenchmarkPythonQueueProcs(b *testing.B) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 is not installed: no Python baseline")
	}
	for _, s := range []struct {
		name, mode string
		size, min  int
	}{
		{"8B/1x1", "int", 8, 20000},
		{"64KiB/1x1", "bytes64k", 64 << 10, 2000},
	} {
		b.Run(s.name, func(b *testing.B) {
			n := max(b.N, s.min)
			out, err := exec.Command(py, "testdata/pyqueue.py", s.mode, strconv.Itoa(n)).Output()
			if err != nil {
				b.Fatalf("pyqueue.py %s: %v", s.mode, err)
			}
			secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			if err != nil || secs <= 0 {
				b.Fatalf("pyqueue.py printed %q", out)
			}
			b.ReportMetric(secs*1e9/float64(n), "ns/op")
			b.ReportMetric(float64(n)/secs, "msgs/s")
			b.ReportMetric(float64(n)*float64(s.size)/secs/1e6, "MB/s")
		})
	}
}
