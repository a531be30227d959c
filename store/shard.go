package store

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Shard is one event loop's handle on a Cache. Only one goroutine may use
// a Shard at a time. It carries the loop's QSBR slot, the segment it
// appends to and its share of the counters, so that neither reading nor
// writing through it writes memory that another shard writes, beyond the
// map's bucket lock when a key is new.
//
// The value-lifetime rule: a value slice that Get returns stays valid
// until the Shard's next Quiescent or Offline call; the loop announces
// quiescence at the top of each iteration, when it holds no value, and
// goes offline before it blocks.
type Shard struct {
	c    *Cache
	node int
	q    *qslot
	mu   sync.Mutex  // spare writers only: the goroutine using it holds mu
	now  uint32      // store seconds, from the last Quiescent
	open [2]*segment // the segment appended to, by queue
	end  [2]int      // bytes appended to open
	free []uint32
	p    pending
	buf  []*segment
	// hits and misses are counted here by the Shard alone, with no
	// atomic write per Get, and published to n by Maintain.
	hits, misses int64
	n            counters
	// release is the loop's OnWait callback.
	release func()
}

// pending is the entry Begin started and Commit publishes.
type pending struct {
	seg *segment
	off int
	h   uint64
	n   uint64 // the chunk's lengths (chunk.n); four fields, so that it stays in registers
}

// publish makes the Shard's hit and miss counts visible to Stats.
func (sh *Shard) publish() {
	sh.n.hits.Store(sh.hits)
	sh.n.misses.Store(sh.misses)
}

// counters are one Shard's share of Stats, written only by the Shard.
type counters struct {
	_                      [64]byte
	items, bytes           atomic.Int64
	evictions, expirations atomic.Int64
	hits, misses           atomic.Int64
	_                      [64]byte
}

// NewShard returns a handle for an event loop on NUMA node node (-1: no
// preference), online: the loop must announce quiescence from now on.
// Segments it writes into are mapped with Config.Map for node.
func (c *Cache) NewShard(node int) *Shard {
	return c.newShard(node, true)
}

func (c *Cache) newShard(node int, register bool) *Shard {
	sh := &Shard{c: c, node: node, q: c.q.register(!register), buf: make([]*segment, 0, 2)}
	sh.now = c.sec(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	if register {
		c.shards = append(c.shards, sh)
	} else {
		sh.offline()
	}
	return sh
}

// Quiescent announces that the loop holds no value slice from Get, and
// sets the Shard's clock, which decides expiry, to now.
func (sh *Shard) Quiescent(now time.Time) {
	sh.now = sh.c.sec(now)
	sh.c.q.quiescent(sh.q)
}

// OnWait sets release, which the Shard calls when a write at the limit
// must wait for other loops to pass a quiescent state before memory can
// be reused (see newSegment). release must leave the loop holding no
// value slice from Get, copying those its batch still needs; the Shard
// then goes offline while it waits, so that loops writing past the limit
// at once do not each hold back the memory the others wait for. Without
// it the Shard waits online, and only for a while (maxWait).
func (sh *Shard) OnWait(release func()) { sh.release = release }

// Offline announces that the loop holds no value slice and will not read
// until Online: call it before blocking.
func (sh *Shard) Offline() { sh.offline() }

// Online ends Offline.
func (sh *Shard) Online() { sh.online() }

func (sh *Shard) offline() { sh.q.seen.Store(offline) }
func (sh *Shard) online()  { sh.c.q.quiescent(sh.q) }

// Expiring reports whether the segments the Shard is filling hold
// entries that expire: only its own Maintain sweeps those, so a loop
// that holds some must not block without a deadline.
func (sh *Shard) Expiring() bool {
	for _, seg := range sh.open {
		if seg != nil && seg.minExp.Load() != 0 {
			return true
		}
	}
	return false
}

// Close retires the Shard: its segment becomes evictable and its slot no
// longer holds reclamation back. The Shard must not be used afterwards.
func (sh *Shard) Close() {
	sh.publish()
	sh.sealOpen(mainQueue)
	sh.sealOpen(smallQueue)
	sh.c.slots.give(sh.free)
	sh.free = nil
	sh.c.q.unregister(sh.q)
}

// Get returns the value stored under key, zero-copy, and the time it has
// left to live in whole seconds (0: it does not expire). The slice is valid until the next Quiescent or
// Offline; the caller must not modify it. An expired entry is a miss and
// is deleted on the spot. Get does not allocate.
func (sh *Shard) Get(key []byte) ([]byte, time.Duration, bool) {
	v, exp, ok := sh.lookup(key)
	if ok {
		sh.hits++
	} else {
		sh.misses++
	}
	return v, exp, ok
}

// lookup is Get without the hit and miss counts.
func (sh *Shard) lookup(key []byte) ([]byte, time.Duration, bool) {
	c := sh.c
	h := c.hash(key)
	v, exp, ok := sh.getAt(h, key)
	if !ok && c.collided.Load() {
		v, exp, ok = sh.getAt(h+1, key)
	}
	return v, exp, ok
}

func (sh *Shard) getAt(pos uint64, key []byte) ([]byte, time.Duration, bool) {
	c := sh.c
	s, ok := c.m.Load(pos)
	if !ok {
		return nil, 0, false
	}
	sl := c.slots.at(s)
	w := sl.Load()
	hd := handle(w).plain()
	if hd == 0 {
		return nil, 0, false
	}
	ch := c.chunkAt(hd)
	if !bytes.Equal(ch.key(), key) {
		return nil, 0, false
	}
	if exp := ch.expires(); exp != 0 && exp <= sh.now {
		if sh.deleteIf(s, w, pos, ch) {
			sh.n.expirations.Add(1)
		}
		return nil, 0, false
	}
	if w&visitedBit == 0 {
		sl.Or(visitedBit)
	}
	return ch.value(), left(ch.expires(), sh.now), true
}

// Set stores a copy of value under key, with a time to live rounded up to
// whole seconds (0 or less: none). With Evict it makes room as needed and
// always succeeds for an entry that fits a segment; with EvictNone it
// returns ErrFull if the key and value would take Bytes past
// Config.MaxBytes, and changes nothing.
func (sh *Shard) Set(key, value []byte, ttl time.Duration) error {
	v, err := sh.Begin(key, len(value), ttl)
	if err != nil {
		return err
	}
	copy(v, value)
	return sh.Commit()
}

// Begin starts storing a value of n bytes under key and returns the
// memory to fill it in, in the arena: a caller that decodes the value
// (from a read buffer, from chunked encoding) writes it there directly.
// Commit then publishes it; until then the key keeps its previous value.
// Between Begin and Commit nothing else may be done with the Shard.
func (sh *Shard) Begin(key []byte, n int, ttl time.Duration) ([]byte, error) {
	c := sh.c
	if len(key) > maxKeyLen {
		return nil, ErrKeyTooLong
	}
	var exp uint32
	if ttl > 0 {
		exp = sh.now + uint32(min((ttl+time.Second-1)/time.Second, 1<<31))
	}
	size := chunkSize(len(key), n, exp != 0)
	if size > c.cfg.SegmentSize {
		return nil, ErrTooLarge
	}
	if b := &c.budget; b.max > 0 && b.used.Load()+int64(len(key)+n) > b.max {
		if v, _, ok := sh.lookup(key); !ok || b.used.Load()+int64(n-len(v)) > b.max {
			return nil, ErrFull
		}
	}
	h := c.hash(key)
	q := mainQueue
	if c.ar.maxBytes > 0 && !c.ghost.take(h) {
		q = smallQueue // evicted soon unless read (see queue.go)
	}
	seg, off, err := sh.alloc(size, q)
	if err != nil {
		return nil, err
	}
	if exp != 0 {
		noteExpiry(seg, exp)
	}
	ch := writeChunk(seg.mem, off, key, n, exp)
	sh.p = pending{seg: seg, off: off, h: h, n: ch.n}
	return ch.value(), nil
}

func noteExpiry(seg *segment, exp uint32) {
	if m := seg.minExp.Load(); m == 0 || exp < m {
		seg.minExp.Store(exp)
	}
}

// Commit publishes the value Begin started. With EvictNone it may still
// return ErrFull, if another write took the room meanwhile.
func (sh *Shard) Commit() error {
	c, p := sh.c, sh.p
	sh.p = pending{}
	hd := mkHandle(p.seg.id, p.off)
	ch := chunk{p.seg.mem[p.off:], p.n}
	size := ch.size()
	key := ch.key()
	entry := int64(len(key) + ch.vlen())
	p.seg.live.Add(int64(size))
	for pos := p.h; ; {
		s, ok := c.m.Load(pos)
		if !ok {
			if !c.reserve(entry) {
				sh.kill(hd, size)
				return ErrFull
			}
			_, loaded := c.m.LoadOrTryCompute(pos, func() (uint32, bool) {
				s := sh.takeSlot()
				c.slots.at(s).Store(uint64(hd))
				return s, false
			})
			if loaded {
				c.unreserve(entry)
				continue
			}
			sh.n.items.Add(1)
			sh.n.bytes.Add(entry)
			if pos == p.h && c.collided.Load() {
				sh.deleteKey(p.h+1, key, hd)
			}
			return nil
		}
		w := c.slots.at(s).Load()
		cur := handle(w).plain()
		if cur == 0 {
			runtime.Gosched() // being deleted: wait for the map entry to go
			continue
		}
		oc := c.chunkAt(cur)
		if !bytes.Equal(oc.key(), key) {
			if v, ok := c.m.Load(pos); !ok || v != s || c.slots.at(s).Load() != w {
				continue // it changed under us: look again
			}
			if pos == p.h { // a 64-bit hash collision: use the next position
				c.collided.Store(true)
				pos++
				continue
			}
			if sh.deleteIf(s, w, pos, oc) { // both taken: evict the second
				sh.n.evictions.Add(1)
			}
			continue
		}
		oldEntry := int64(oc.klen() + oc.vlen())
		if !c.reserve(entry - oldEntry) {
			sh.kill(hd, size)
			return ErrFull
		}
		if c.slots.at(s).CompareAndSwap(w, uint64(hd)) {
			sh.kill(cur, oc.size())
			sh.n.bytes.Add(entry - oldEntry)
			return nil
		}
		c.unreserve(entry - oldEntry)
	}
}

// Delete removes key and reports whether it was there.
func (sh *Shard) Delete(key []byte) bool {
	c := sh.c
	h := c.hash(key)
	return sh.deleteKey(h, key, 0) || c.collided.Load() && sh.deleteKey(h+1, key, 0)
}

// deleteKey deletes key at map position pos unless its handle is keep.
func (sh *Shard) deleteKey(pos uint64, key []byte, keep handle) bool {
	c := sh.c
	for {
		s, ok := c.m.Load(pos)
		if !ok {
			return false
		}
		w := c.slots.at(s).Load()
		cur := handle(w).plain()
		if cur == 0 || cur == keep {
			return false
		}
		ch := c.chunkAt(cur)
		if !bytes.Equal(ch.key(), key) {
			return false
		}
		if sh.deleteIf(s, w, pos, ch) {
			return true
		}
	}
}

// deleteIf is compare-and-delete: it deletes the entry at map position
// pos, slot s, if the slot still holds w (its handle and visited bit),
// and reports whether it did. ch is the chunk w names.
func (sh *Shard) deleteIf(s uint32, w uint64, pos uint64, ch chunk) bool {
	c := sh.c
	if v, ok := c.m.Load(pos); !ok || v != s {
		return false
	}
	size, entry := ch.size(), int64(ch.klen()+ch.vlen())
	done := false
	c.m.Compute(pos, func(old uint32, loaded bool) (uint32, bool) {
		if loaded && old == s && c.slots.at(s).CompareAndSwap(w, 0) {
			done = true
			return 0, true
		}
		return old, !loaded
	})
	if done {
		sh.freeSlot(s)
		sh.kill(handle(w).plain(), size)
		sh.n.items.Add(-1)
		sh.n.bytes.Add(-entry)
		c.reserve(-entry)
	}
	return done
}

// kill accounts for a chunk that nothing points to any more; the last
// one in a segment that is no longer written puts it in limbo.
func (sh *Shard) kill(hd handle, size int) {
	seg := sh.c.ar.seg(hd.id())
	if seg.live.Add(-int64(size)) == 0 {
		sh.c.tryRetire(seg)
	}
}

func (c *Cache) tryRetire(seg *segment) {
	if seg.state.CompareAndSwap(segSealed, segLimbo) || seg.state.CompareAndSwap(segDead, segLimbo) {
		c.ar.retire(seg)
	}
}

func (sh *Shard) takeSlot() uint32 {
	if len(sh.free) == 0 {
		sh.free = sh.c.slots.take(sh.free, 64)
	}
	s := sh.free[len(sh.free)-1]
	sh.free = sh.free[:len(sh.free)-1]
	return s
}

func (sh *Shard) freeSlot(s uint32) {
	sh.free = append(sh.free, s)
	if len(sh.free) >= 512 {
		sh.c.slots.give(sh.free[256:])
		sh.free = sh.free[:256]
	}
}
