package mp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"hash/crc32"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustQueue[T any](t testing.TB, opts ...QueueOption) *Queue[T] {
	t.Helper()
	q, err := NewQueue[T](opts...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQueueRawFIFOAndCapacity(t *testing.T) {
	q := mustQueue[int64](t, WithCapacity(4))
	for i := int64(0); i < 4; i++ {
		if err := q.TryPut(i * 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TryPut(99); !errors.Is(err, ErrFull) {
		t.Fatalf("TryPut into a full queue: %v, want ErrFull", err)
	}
	if q.Len() != 4 {
		t.Fatalf("Len = %d, want 4", q.Len())
	}
	for i := int64(0); i < 4; i++ {
		x, err := q.TryGet()
		if err != nil || x != i*10 {
			t.Fatalf("TryGet = %d, %v; want %d", x, err, i*10)
		}
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet from an empty queue: %v, want ErrEmpty", err)
	}
}

type oddSized struct {
	A [3]byte
	B uint16
	C float32
}

func TestQueueOddSizedRawWraps(t *testing.T) {
	q := mustQueue[oddSized](t, WithCapacity(5))
	for i := 0; i < 100; i++ {
		in := oddSized{A: [3]byte{byte(i), 1, 2}, B: uint16(i * 7), C: float32(i) / 2}
		if err := q.Put(in); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			continue
		}
		for q.Len() > 0 {
			if _, err := q.Get(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for q.Len() > 0 {
		if _, err := q.Get(); err != nil {
			t.Fatal(err)
		}
	}
	in := oddSized{A: [3]byte{9, 8, 7}, B: 65535, C: -1.5}
	if err := q.Put(in); err != nil {
		t.Fatal(err)
	}
	if out, err := q.Get(); err != nil || out != in {
		t.Fatalf("Get = %+v, %v; want %+v", out, err, in)
	}
}

type job struct {
	ID    int
	Name  string
	Tags  []string
	Attrs map[string]float64
}

func TestQueueEncodedTypes(t *testing.T) {
	s := mustQueue[string](t)
	for _, in := range []string{"", "hello", strings.Repeat("é", 1000)} {
		if err := s.Put(in); err != nil {
			t.Fatal(err)
		}
		if out, err := s.Get(); err != nil || out != in {
			t.Fatalf("string Get = %q, %v", out, err)
		}
	}
	b := mustQueue[[]byte](t)
	for _, in := range [][]byte{{}, {0}, bytes.Repeat([]byte{1, 2, 3}, 5000)} {
		if err := b.Put(in); err != nil {
			t.Fatal(err)
		}
		out, err := b.Get()
		if err != nil || out == nil || !bytes.Equal(out, in) {
			t.Fatalf("[]byte Get = %v, %v", out, err)
		}
	}
	g := mustQueue[job](t)
	in := job{ID: 7, Name: "resize", Tags: []string{"a", "b"}, Attrs: map[string]float64{"w": 1.5}}
	if err := g.Put(in); err != nil {
		t.Fatal(err)
	}
	out, err := g.Get()
	if err != nil || out.ID != 7 || out.Name != "resize" || len(out.Tags) != 2 || out.Attrs["w"] != 1.5 {
		t.Fatalf("gob Get = %+v, %v", out, err)
	}
}

// TestQueueZeroSizeItems: struct{} items (tokens) take room and count.
func TestQueueZeroSizeItems(t *testing.T) {
	q := mustQueue[struct{}](t, WithCapacity(3))
	for i := 0; i < 3; i++ {
		if err := q.TryPut(struct{}{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TryPut(struct{}{}); !errors.Is(err, ErrFull) {
		t.Fatalf("fourth token into 3: %v, want ErrFull", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := q.TryGet(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet after draining tokens: %v, want ErrEmpty", err)
	}
}

func TestQueueTooLargeFailsAtOnce(t *testing.T) {
	q := mustQueue[[]byte](t, WithByteCapacity(4096))
	done := make(chan error, 1)
	go func() { done <- q.Put(make([]byte, 4096)) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Put of a message larger than the queue: %v, want ErrTooLarge", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Put of a message that can never fit hangs")
	}
	if err := q.Put(make([]byte, 4088)); err != nil {
		t.Fatalf("a message that exactly fits: %v", err)
	}
}

func TestQueueCloseAndDrain(t *testing.T) {
	q := mustQueue[string](t)
	for _, s := range []string{"a", "b"} {
		if err := q.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Put("c"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v, want ErrClosed", err)
	}
	for _, want := range []string{"a", "b"} {
		if got, err := q.Get(); err != nil || got != want {
			t.Fatalf("drain: %q, %v; want %q", got, err, want)
		}
	}
	if _, err := q.Get(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get from a closed, drained queue: %v, want ErrClosed", err)
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryGet from a closed, drained queue: %v, want ErrClosed", err)
	}
}

func TestQueueDeadlines(t *testing.T) {
	q := mustQueue[int32](t, WithCapacity(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.GetContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetContext on an empty queue: %v", err)
	}
	if err := q.Put(1); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- q.PutContext(ctx2, 2) }()
	time.Sleep(20 * time.Millisecond)
	cancel2()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("PutContext on a full queue, cancelled: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("cancellation did not end a PutContext")
	}
	if x, err := q.Get(); err != nil || x != 1 {
		t.Fatalf("Get = %d, %v: the cancelled Put must not have added anything", x, err)
	}
}

// A struct holding handles crosses a Queue and arrives usable: the receiver
// works on the sender's objects.
type handles struct {
	L *Lock
	V *Value[int64]
	Q *Queue[string]
}

func TestQueueCarriesHandles(t *testing.T) {
	l, err := NewLock()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValue[int64](5)
	if err != nil {
		t.Fatal(err)
	}
	inner := mustQueue[string](t)
	q := mustQueue[handles](t)
	if err := q.Put(handles{L: l, V: v, Q: inner}); err != nil {
		t.Fatal(err)
	}
	got, err := q.Get()
	if err != nil {
		t.Fatal(err)
	}
	got.L.Lock()
	if l.TryLock() {
		t.Fatal("the received Lock is not the sent one")
	}
	got.L.Unlock()
	got.V.Store(42)
	if v.Load() != 42 {
		t.Fatal("the received Value is not the sent one")
	}
	if err := got.Q.Put("through"); err != nil {
		t.Fatal(err)
	}
	if s, err := inner.Get(); err != nil || s != "through" {
		t.Fatalf("inner queue: %q, %v", s, err)
	}
}

func TestQueueGobHandle(t *testing.T) {
	q := mustQueue[uint64](t)
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(q); err != nil {
		t.Fatal(err)
	}
	enc := buf.Bytes()
	var same Queue[uint64]
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&same); err != nil {
		t.Fatal(err)
	}
	if err := same.Put(11); err != nil {
		t.Fatal(err)
	}
	if x, err := q.Get(); err != nil || x != 11 {
		t.Fatalf("Get through the original handle: %d, %v", x, err)
	}
	var other Queue[string]
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&other); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("decoding a Queue[uint64] as a Queue[string]: %v, want ErrTypeMismatch", err)
	}
}

// upperCodec is a user codec with a visible effect, so the test can tell
// that it, and not the default, ran.
type upperCodec struct{}

func (upperCodec) Append(dst []byte, s string) ([]byte, error) {
	return append(dst, strings.ToUpper(s)...), nil
}
func (upperCodec) Decode(b []byte) (string, error) { return string(b) + "!", nil }

type unregisteredCodec struct{ upperCodec }

func TestQueueCodec(t *testing.T) {
	RegisterCodec[string](upperCodec{})
	q := mustQueue[string](t, WithCodec[string](upperCodec{}))
	if err := q.Put("hi"); err != nil {
		t.Fatal(err)
	}
	if s, err := q.Get(); err != nil || s != "HI!" {
		t.Fatalf("Get with codec = %q, %v", s, err)
	}
	enc, err := q.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var r Queue[string]
	if err := r.GobDecode(enc); err != nil {
		t.Fatal(err)
	}
	if err := r.Put("x"); err != nil {
		t.Fatal(err)
	}
	if s, err := q.Get(); err != nil || s != "X!" {
		t.Fatalf("the decoded handle did not use the registered codec: %q, %v", s, err)
	}

	u := mustQueue[string](t, WithCodec[string](unregisteredCodec{}))
	enc, err = u.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	if err := new(Queue[string]).GobDecode(enc); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("decoding a queue whose codec is not registered: %v, want ErrTypeMismatch", err)
	}
	if _, err := NewQueue[int](WithCodec[string](upperCodec{})); err == nil {
		t.Fatal("a string codec was accepted for a Queue[int]")
	}
}

func TestQueueBadOptions(t *testing.T) {
	for _, opts := range [][]QueueOption{
		{WithCapacity(-1)},
		{WithByteCapacity(10)},
		{WithByteCapacity(MaxQueueBytes + 1)},
		{WithCapacity(MaxQueueItems + 1)},
	} {
		if _, err := NewQueue[int](opts...); err == nil {
			t.Errorf("NewQueue with bad options succeeded")
		}
	}
}

func TestQueueZeroValuePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a Queue not made by NewQueue was usable")
		}
	}()
	var q Queue[int]
	q.Put(1)
}

// TestQueueGoroutines: producers and consumers in one process, every item
// exactly once, in order per producer, with its checksum intact.
func TestQueueGoroutines(t *testing.T) {
	const producers, consumers, each = 4, 4, 5000
	q := mustQueue[[]byte](t, WithByteCapacity(8192))
	var pw, cw sync.WaitGroup
	for p := 0; p < producers; p++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := 0; i < each; i++ {
				if err := q.Put(testMessage(p, i, 0)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	results := make(chan [producers][]int, consumers)
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			var mine [producers][]int
			for {
				b, err := q.Get()
				if errors.Is(err, ErrClosed) {
					break
				}
				if err != nil {
					// Closing lets the producers end instead of blocking.
					t.Error(err)
					q.Close()
					break
				}
				p, i, err := checkMessage(b)
				if err == nil && (p >= producers || i >= each) {
					err = errors.New("message names no item that was sent")
				}
				if err != nil {
					t.Error(err) // and drain on, so the producers never block
					continue
				}
				mine[p] = append(mine[p], i)
			}
			results <- mine
		}()
	}
	pw.Wait()
	q.Close()
	cw.Wait()
	close(results)
	seen := make([][]bool, producers)
	for p := range seen {
		seen[p] = make([]bool, each)
	}
	for mine := range results {
		for p, items := range mine {
			for k, i := range items {
				if k > 0 && i <= items[k-1] {
					t.Fatalf("producer %d: item %d after %d", p, i, items[k-1])
				}
				if seen[p][i] {
					t.Fatalf("producer %d item %d received twice", p, i)
				}
				seen[p][i] = true
			}
		}
	}
	for p := range seen {
		for i, ok := range seen[p] {
			if !ok {
				t.Fatalf("producer %d item %d lost", p, i)
			}
		}
	}
}

// testMessage is producer p's item i: a header naming p, i and the payload
// length, a payload of (i*7)%300+extra bytes that depend on i, and a
// checksum over all of it.
func testMessage(p, i, extra int) []byte {
	n := (i*7)%300 + extra
	b := make([]byte, 0, 16+n)
	b = binary.LittleEndian.AppendUint32(b, uint32(p))
	b = binary.LittleEndian.AppendUint32(b, uint32(i))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for k := 0; k < n; k++ {
		b = append(b, byte(i+k))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func checkMessage(b []byte) (p, i int, err error) {
	if len(b) < 16 || binary.LittleEndian.Uint32(b[len(b)-4:]) != crc32.ChecksumIEEE(b[:len(b)-4]) {
		return 0, 0, errors.New("message torn or corrupt")
	}
	if n := binary.LittleEndian.Uint32(b[8:]); uint64(len(b)) != 16+uint64(n) {
		return 0, 0, errors.New("message of the wrong length")
	}
	return int(binary.LittleEndian.Uint32(b)), int(binary.LittleEndian.Uint32(b[4:])), nil
}
