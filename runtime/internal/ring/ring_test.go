package ring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/mprace/mprace/runtime/internal/futex"
)

// owners treats every id as alive except those in dead.
type owners struct{ dead map[uint32]bool }

func (o owners) Alive(id uint32) bool { return !o.dead[id] }

func (o owners) Sleep(word *uint32, val, holder, bump uint32, backstop time.Duration) bool {
	if holder != 0 && !o.Alive(holder) {
		return true
	}
	futex.Wait(word, val, backstop)
	return holder != 0 && !o.Alive(holder)
}

func newRing(t testing.TB, c Config) *Ring {
	t.Helper()
	n, err := c.Size()
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]uint64, (n+63)/8+8)
	p := unsafe.Pointer(&mem[0])
	p = unsafe.Add(p, (64-uintptr(p)%64)%64)
	if err := Init(p, n, c); err != nil {
		t.Fatal(err)
	}
	r, err := Attach(p, n, 1, owners{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTripWraps(t *testing.T) {
	r := newRing(t, Config{ByteCap: 200, ItemCap: 1000})
	// Sizes that are not multiples of 8 walk the records across the end of
	// the 256-byte data area at every offset.
	for i := 0; i < 500; i++ {
		msg := bytes.Repeat([]byte{byte(i)}, i%37)
		if err := r.Put(nil, msg); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		got, err := r.Get(nil, nil)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("get %d = %v, %v; want %v", i, got, err, msg)
		}
	}
	if r.Len() != 0 {
		t.Fatalf("Len = %d after draining", r.Len())
	}
}

func TestFixedRecords(t *testing.T) {
	r := newRing(t, Config{ByteCap: 96, ItemCap: 100, Fixed: 12})
	for i := 0; i < 100; i++ {
		var in [12]byte
		binary.LittleEndian.PutUint32(in[:], uint32(i))
		for r.Put(nil, in[:]) == nil {
		}
		got, err := r.Get(nil, nil)
		if err != nil || len(got) != 12 {
			t.Fatalf("get = %v, %v", got, err)
		}
	}
	if err := r.Put(nil, make([]byte, 11)); err == nil {
		t.Fatal("an 11-byte payload in a 12-byte ring was accepted")
	}
}

func TestCapacities(t *testing.T) {
	r := newRing(t, Config{ByteCap: 64, ItemCap: 3})
	for i := 0; i < 3; i++ {
		if err := r.Put(nil, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Put(nil, []byte{1}); !errors.Is(err, ErrFull) {
		t.Fatalf("fourth put into 3 items: %v, want ErrFull", err)
	}
	if r.Len() != 3 {
		t.Fatalf("Len = %d, want 3", r.Len())
	}
	b := newRing(t, Config{ByteCap: 64, ItemCap: 100})
	if err := b.Put(nil, make([]byte, 56)); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(nil, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("put into a full byte ring: %v, want ErrFull", err)
	}
	if err := b.Put(context.Background(), make([]byte, 57)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a message that can never fit: %v, want ErrTooLarge at once", err)
	}
	if _, err := newRing(t, Config{ByteCap: 64, ItemCap: 1}).Get(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("get from empty: %v, want ErrEmpty", err)
	}
}

func TestCloseDrains(t *testing.T) {
	r := newRing(t, Config{ByteCap: 1024, ItemCap: 100})
	for i := 0; i < 5; i++ {
		if err := r.Put(nil, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	r.Close()
	if err := r.Put(nil, []byte{9}); !errors.Is(err, ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
	for i := 0; i < 5; i++ {
		got, err := r.Get(context.Background(), nil)
		if err != nil || got[0] != byte(i) {
			t.Fatalf("drain %d: %v, %v", i, got, err)
		}
	}
	if _, err := r.Get(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("get from closed, drained ring: %v", err)
	}
}

func TestCloseWakesSleepers(t *testing.T) {
	r := newRing(t, Config{ByteCap: 64, ItemCap: 1})
	full := newRing(t, Config{ByteCap: 64, ItemCap: 1})
	if err := full.Put(nil, nil); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { _, err := r.Get(context.Background(), nil); errs <- err }()
	go func() { errs <- full.Put(context.Background(), nil) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	r.Close()
	full.Close()
	for i := 0; i < 2; i++ {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("sleeper got %v, want ErrClosed", err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("sleepers took %v to notice Close; the wake-up did not reach them", d)
	}
}

func TestDeadline(t *testing.T) {
	r := newRing(t, Config{ByteCap: 64, ItemCap: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Get(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get past deadline: %v", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 90*time.Millisecond {
		t.Fatalf("deadline of 30ms ended the wait after %v", d)
	}
	if err := r.Put(nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if err := r.Put(ctx2, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put past deadline: %v", err)
	}
}

// TestDeadHolder leaves a side's lock held by a process that is dead: the
// next caller takes it over and the ring goes on, nothing lost.
func TestDeadHolder(t *testing.T) {
	r := newRing(t, Config{ByteCap: 256, ItemCap: 10})
	r.owners = owners{dead: map[uint32]bool{77: true}}
	if err := r.Put(nil, []byte("a")); err != nil {
		t.Fatal(err)
	}
	// A producer that died mid-copy: lock held, half a record written past
	// the tail, tail not published.
	if !r.h.prodLock.TryLock(77) || !r.h.consLock.TryLock(77) {
		t.Fatal("locks not free")
	}
	copy(unsafe.Slice((*byte)(r.data), 256)[16:], "garbage")
	start := time.Now()
	if err := r.Put(context.Background(), []byte("b")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b"} {
		got, err := r.Get(context.Background(), nil)
		if err != nil || string(got) != want {
			t.Fatalf("get = %q, %v; want %q", got, err, want)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("takeover from a dead holder took %v", d)
	}
}

func TestCorruptionIsAnError(t *testing.T) {
	for name, spoil := range map[string]func(r *Ring){
		"tail past capacity": func(r *Ring) { r.h.tail = pack(4096, 1) },
		"head ahead of tail": func(r *Ring) { r.h.head = pack(8, 5) },
		"record header":      func(r *Ring) { *r.word(0) = 1 << 20 },
		"length complement ok but too long": func(r *Ring) {
			*r.word(0) = uint64(1000) | uint64(^uint32(1000))<<32
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRing(t, Config{ByteCap: 128, ItemCap: 10})
			if err := r.Put(nil, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			spoil(r)
			_, err := r.Get(nil, nil)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("get from a corrupt ring: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestAttachRejectsGarbage(t *testing.T) {
	good := Config{ByteCap: 128, ItemCap: 10}
	n, _ := good.Size()
	// The first five words are the magic and configuration; the rest of the
	// line is padding.
	for i := 0; i < 40; i += 8 {
		mem := make([]uint64, n/8)
		p := unsafe.Pointer(&mem[0])
		if err := Init(p, n, good); err != nil {
			t.Fatal(err)
		}
		mem[i/8] ^= 0xdeadbeef00
		if _, err := Attach(p, n, 1, owners{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("header word %d scribbled: Attach = %v, want ErrCorrupt", i/8, err)
		}
	}
	mem := make([]uint64, n/8)
	if _, err := Attach(unsafe.Pointer(&mem[0]), n, 1, owners{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Attach to zeroes: %v", err)
	}
}

// TestManyGoroutines checks exactly-once delivery and per-producer order
// with producers and consumers racing on a small ring.
func TestManyGoroutines(t *testing.T) {
	const producers, consumers, each = 4, 4, 20000
	r := newRing(t, Config{ByteCap: 512, ItemCap: 1 << 20})
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := fmt.Appendf(nil, "%d:%d:%s", p, i, bytes.Repeat([]byte{'x'}, i%23))
				if err := r.Put(context.Background(), msg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var got [producers][]int
	var mu sync.Mutex
	var cw sync.WaitGroup
	var total atomic.Int64
	for c := 0; c < consumers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			var mine [producers][]int
			for {
				b, err := r.Get(context.Background(), nil)
				if errors.Is(err, ErrClosed) {
					break
				}
				if err != nil {
					// Closing lets the producers end instead of blocking.
					t.Error(err)
					r.Close()
					return
				}
				var p, i int
				var pad string
				fmt.Sscanf(string(b), "%d:%d:%s", &p, &i, &pad)
				if p < 0 || p >= producers || i < 0 || i >= each || len(pad) != i%23 ||
					!bytes.Equal(b, fmt.Appendf(nil, "%d:%d:%s", p, i, bytes.Repeat([]byte{'x'}, i%23))) {
					// Draining on keeps the producers from blocking.
					t.Errorf("torn message %q", b)
					continue
				}
				mine[p] = append(mine[p], i)
				total.Add(1)
			}
			mu.Lock()
			for p := range mine {
				// Each consumer sees each producer's items in order.
				for k := 1; k < len(mine[p]); k++ {
					if mine[p][k] <= mine[p][k-1] {
						t.Errorf("producer %d: %d received after %d", p, mine[p][k], mine[p][k-1])
					}
				}
				got[p] = append(got[p], mine[p]...)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.Close()
	cw.Wait()
	for p := range got {
		seen := make([]bool, each)
		for _, i := range got[p] {
			if seen[i] {
				t.Fatalf("producer %d item %d received twice", p, i)
			}
			seen[i] = true
		}
		if len(got[p]) != each {
			t.Fatalf("producer %d: %d of %d items received", p, len(got[p]), each)
		}
	}
}

// TestDeadSleeperHealed: a consumer killed while asleep leaves its count in
// notEmpty.waiting; the next publish that wakes nobody gives it back, so
// later publishes stop paying for a wake-up system call.
func TestDeadSleeperHealed(t *testing.T) {
	r := newRing(t, Config{ByteCap: 256, ItemCap: 10})
	r.owners = owners{dead: map[uint32]bool{77: true}}
	r.h.notEmpty.waiting = 2
	r.h.notEmpty.sleepers[3] = 77 // dead
	r.h.notEmpty.sleepers[5] = 78 // alive, somewhere
	if err := r.Put(nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n := atomic.LoadUint32(&r.h.notEmpty.waiting); n != 1 {
		t.Fatalf("waiting = %d after healing, want 1 (the live sleeper's)", n)
	}
	if r.h.notEmpty.sleepers[3] != 0 || r.h.notEmpty.sleepers[5] != 78 {
		t.Fatalf("sleepers = %v: want the dead entry cleared and the live one kept", r.h.notEmpty.sleepers[:8])
	}
}

// TestSleepersLeaveNoTrace: after many sleeps and wake-ups across
// goroutines, no count and no table entry is left behind.
func TestSleepersLeaveNoTrace(t *testing.T) {
	r := newRing(t, Config{ByteCap: 64, ItemCap: 2})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := r.Get(context.Background(), nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 800; i++ {
		if err := r.Put(context.Background(), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let the consumers fall asleep
		}
	}
	wg.Wait()
	for _, s := range []*sleepSide{&r.h.notEmpty, &r.h.notFull} {
		if s.waiting != 0 {
			t.Fatalf("waiting = %d with nobody waiting", s.waiting)
		}
		for i, id := range s.sleepers {
			if id != 0 {
				t.Fatalf("sleeper entry %d still holds %d", i, id)
			}
		}
	}
}

// TestScribbledRingNeverCrashes writes random values over the words of the
// shared state a stray writer could reach (everything but the locks, whose
// scribbling rlock answers for) and the data, then uses the ring: every
// outcome must be a record or an error, never a panic or a hang.
func TestScribbledRingNeverCrashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	corrupt := 0
	for iter := 0; iter < 2000; iter++ {
		r := newRing(t, Config{ByteCap: 256, ItemCap: 8, Fixed: uint64(8 * (iter % 2))})
		for i := 0; i < rng.IntN(8); i++ {
			r.Put(nil, make([]byte, r.cfg.Fixed+uint64(rng.IntN(20))*(1-uint64(iter%2))))
			if rng.IntN(2) == 0 {
				r.Get(nil, nil)
			}
		}
		words := []*uint64{&r.h.tail, &r.h.headSeen, &r.h.head, &r.h.tailSeen}
		data := unsafe.Slice((*uint64)(r.data), 256/8)
		for k := 0; k < 1+rng.IntN(3); k++ {
			v := rng.Uint64()
			if rng.IntN(2) == 0 {
				v &= 0x000003f8_000000ff // small, aligned: more likely to pass the checks
			}
			if rng.IntN(3) == 0 {
				data[rng.IntN(len(data))] = v
			} else {
				*words[rng.IntN(len(words))] = v
			}
		}
		for op := 0; op < 10; op++ {
			var err error
			if rng.IntN(2) == 0 {
				var b []byte
				if b, err = r.Get(nil, nil); err == nil && uint64(len(b)) > r.cfg.ByteCap {
					t.Fatalf("Get returned %d bytes from a %d-byte ring", len(b), r.cfg.ByteCap)
				}
			} else {
				err = r.Put(nil, make([]byte, r.cfg.Fixed))
			}
			if errors.Is(err, ErrCorrupt) {
				corrupt++
			}
			if n := r.Len(); n < 0 || n > int(r.cfg.ItemCap) {
				t.Fatalf("Len = %d with capacity %d", n, r.cfg.ItemCap)
			}
		}
	}
	// The scribbles must have been caught, not merely survived.
	if corrupt < 1000 {
		t.Fatalf("only %d operations reported ErrCorrupt: the scribbles went unnoticed", corrupt)
	}
	t.Logf("%d operations reported ErrCorrupt", corrupt)
}
