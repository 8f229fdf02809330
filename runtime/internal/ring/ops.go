package ring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/mprace/mprace/runtime/internal/rlock"
)

// Put appends one record holding p. With ctx nil it never waits for space
// and returns ErrFull instead; otherwise it waits until there is space, the
// ring is closed (ErrClosed) or ctx is done (ctx's error).
func (r *Ring) Put(ctx context.Context, p []byte) error {
	if r.cfg.Fixed != 0 && uint64(len(p)) != r.cfg.Fixed {
		return fmt.Errorf("ring: %d-byte payload in a ring of %d-byte records", len(p), r.cfg.Fixed)
	}
	if uint64(len(p)) > math.MaxUint32 || r.RecordSize(len(p)) > r.cfg.ByteCap {
		return fmt.Errorf("ring: %d-byte message, capacity %d bytes: %w", len(p), r.cfg.ByteCap, ErrTooLarge)
	}
	var w waiter
	defer w.done()
	for {
		done, err := r.tryPut(ctx, p)
		if done || err != nil {
			return err
		}
		if ctx == nil {
			return ErrFull
		}
		if err := w.wait(ctx, r, &r.h.notFull, func() bool { return r.hasSpace(len(p)) }); err != nil {
			return err
		}
	}
}

// tryPut appends p if there is space now; done reports whether it did.
func (r *Ring) tryPut(ctx context.Context, p []byte) (done bool, err error) {
	if err := r.lock(ctx, &r.h.prodLock); err != nil {
		return false, err
	}
	defer r.h.prodLock.Unlock()
	if atomic.LoadUint32(&r.h.closed) != 0 {
		return false, ErrClosed
	}
	tl := atomic.LoadUint64(&r.h.tail)
	rec := r.RecordSize(len(p))
	hd := atomic.LoadUint64(&r.h.headSeen)
	if r.valid(tl, hd) != nil || !r.fits(tl, hd, rec) {
		// The cached head is stale (or was never set): look at the real one,
		// which moves only forward.
		hd = atomic.LoadUint64(&r.h.head)
		if err := r.valid(tl, hd); err != nil {
			return false, err
		}
		atomic.StoreUint64(&r.h.headSeen, hd)
		if !r.fits(tl, hd, rec) {
			return false, nil
		}
	}
	at := pos(tl)
	body := at
	if r.cfg.Fixed == 0 {
		atomic.StoreUint64(r.word(at), uint64(len(p))|uint64(^uint32(len(p)))<<32)
		body += recHdr
	}
	a, b := r.at(body, uint64(len(p)))
	copy(b, p[copy(a, p):])
	// Publication: the record becomes visible, whole, with this one store.
	atomic.StoreUint64(&r.h.tail, pack(at+uint32(rec), count(tl)+1))
	r.wake(&r.h.notEmpty)
	return true, nil
}

func (r *Ring) fits(tl, hd, rec uint64) bool {
	b, n := used(tl, hd)
	return uint64(b)+rec <= r.cfg.ByteCap && uint64(n) < r.cfg.ItemCap
}

// hasSpace is the waiting producer's unlocked look at the ring.
func (r *Ring) hasSpace(n int) bool {
	hd := atomic.LoadUint64(&r.h.head)
	tl := atomic.LoadUint64(&r.h.tail)
	return r.Closed() || r.valid(tl, hd) != nil || r.fits(tl, hd, r.RecordSize(n))
}

// Get removes the oldest record and appends its payload to dst. With ctx
// nil it never waits and returns ErrEmpty on an empty ring; otherwise it
// waits until a record arrives, the ring is closed and drained (ErrClosed),
// or ctx is done (ctx's error).
func (r *Ring) Get(ctx context.Context, dst []byte) ([]byte, error) {
	var w waiter
	defer w.done()
	for {
		out, done, err := r.tryGet(ctx, dst)
		if done || err != nil {
			return out, err
		}
		if ctx == nil {
			return dst, ErrEmpty
		}
		if err := w.wait(ctx, r, &r.h.notEmpty, r.hasRecord); err != nil {
			return dst, err
		}
	}
}

func (r *Ring) tryGet(ctx context.Context, dst []byte) (out []byte, done bool, err error) {
	if err := r.lock(ctx, &r.h.consLock); err != nil {
		return dst, false, err
	}
	defer r.h.consLock.Unlock()
	hd := atomic.LoadUint64(&r.h.head)
	tl := atomic.LoadUint64(&r.h.tailSeen)
	if r.valid(tl, hd) != nil || tl == hd {
		// Closed is read before tail: a Close that was seen happened after
		// the last Put published, so an empty ring then is empty for good.
		closed := r.Closed()
		tl = atomic.LoadUint64(&r.h.tail)
		if err := r.valid(tl, hd); err != nil {
			return dst, false, err
		}
		atomic.StoreUint64(&r.h.tailSeen, tl)
		if tl == hd {
			if closed {
				return dst, false, ErrClosed
			}
			return dst, false, nil
		}
	}
	avail, _ := used(tl, hd)
	at := pos(hd)
	body, n, rec := at, r.cfg.Fixed, r.RecordSize(0)
	if n == 0 {
		w := atomic.LoadUint64(r.word(at))
		n = w & math.MaxUint32
		rec = r.RecordSize(int(n))
		if uint32(w>>32) != ^uint32(n) {
			return dst, false, fmt.Errorf("%w: record header %#x at position %d", ErrCorrupt, w, at)
		}
		body += recHdr
	}
	if rec > uint64(avail) {
		return dst, false, fmt.Errorf("%w: %d-byte record at position %d with %d bytes published", ErrCorrupt, rec, at, avail)
	}
	a, b := r.at(body, n)
	// Plain appends, not slices.Grow: growing by append copies into the
	// new memory without zeroing it first, which for large records is a
	// third of the cost of a Get.
	dst = append(append(dst, a...), b...)
	atomic.StoreUint64(&r.h.head, pack(at+uint32(rec), count(hd)+1))
	r.wake(&r.h.notFull)
	return dst, true, nil
}

// hasRecord is the waiting consumer's unlocked look at the ring.
func (r *Ring) hasRecord() bool {
	return r.Closed() || atomic.LoadUint64(&r.h.tail) != atomic.LoadUint64(&r.h.head)
}

// Close marks the ring closed: Put fails with ErrClosed from now on and Get
// does once the ring is drained. Closing twice is harmless.
func (r *Ring) Close() {
	// Under the producers' lock, so that no Put that saw the ring open is
	// still publishing: consumers that see closed see every record.
	_ = r.h.prodLock.Lock(r.self, r.owners)
	atomic.StoreUint32(&r.h.closed, 1)
	r.h.prodLock.Unlock()
	r.h.notEmpty.wakeAll()
	r.h.notFull.wakeAll()
}

// lock takes one side's lock, waiting without end when ctx is nil. A dead
// previous holder needs no repair (see the contract), so ErrOwnerDead is not
// an error here.
func (r *Ring) lock(ctx context.Context, l *rlock.State) error {
	var err error
	if ctx == nil {
		err = l.Lock(r.self, r.owners)
	} else {
		err = l.LockContext(ctx, r.self, r.owners)
	}
	if errors.Is(err, rlock.ErrOwnerDead) {
		// The dead holder may have published without waking anyone.
		r.h.notEmpty.wakeAll()
		r.h.notFull.wakeAll()
		return nil
	}
	return err
}
