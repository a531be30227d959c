package store

// This file is the Shard's write side in its segments: appending,
// sealing, and the walks that evict, expire and compact.

import (
	"runtime"
	"time"
)

// alloc returns room for a chunk of size bytes in the Shard's segment,
// opening a new one when it is full. With Evict, when the arena is close
// to its limit it then evicts the oldest sealed segment (moving the
// entries read since they were written into the new segment), so that
// segments keep coming back from limbo as writers take them. When none
// is ready (another shard has not passed a quiescent state since) it
// takes one past the limit, up to an overdraft of 1/32 of the limit (at
// least 4 segments), which segments coming back from limbo then pay
// off; past that it waits for one (see newSegment), and returns ErrFull
// only when an event loop, which may be stuck, held reclamation back for
// maxWait, rather than let memory grow without bound behind it.
//
// q is the queue the chunk goes to: the Shard has an open segment for each.
func (sh *Shard) alloc(size, q int) (*segment, int, error) {
	for range 2 {
		if off, ok := sh.fit(size, q); ok {
			return sh.open[q], off, nil
		}
		sh.sealOpen(q)
		seg, err := sh.newSegment(q)
		if err != nil {
			return nil, 0, err
		}
		sh.sealOpen(q) // one an eviction in newSegment moved entries to
		sh.open[q], sh.end[q] = seg, 0
		if sh.c.ar.needEvict(sh.c.readyTarget()) {
			sh.evict()
		}
	}
	if off, ok := sh.fit(size, q); ok {
		return sh.open[q], off, nil
	}
	return nil, 0, ErrTooLarge // unreachable for size ≤ SegmentSize
}

// maxWait bounds how long a writer waits for a segment at the limit
// while an event loop that is not waiting itself holds reclamation back
// (it is in the middle of a batch, or descheduled; one that does not pass
// a quiescent state for this long is taken to be stuck), or while nothing
// can come back: then the write fails with ErrFull rather than hang.
const maxWait = 250 * time.Millisecond

// spareWait is how long a writer sleeps between looks while only spare
// writers hold reclamation back: they are running, or will be.
const spareWait = 50 * time.Microsecond

// newSegment takes a segment for queue q, past the limit if it must, as
// alloc says. Before it waits, a Shard steps aside: a spare Shard (a
// goroutine's writer: it holds no arena memory here, and gives out no
// value slices) goes offline, and so does a loop's Shard with an OnWait
// callback once the callback has copied what the loop's batch still
// references. So writers waiting for each other do not hold back the very
// segments they wait for. When nothing is on its way back from limbo it
// evicts a segment itself. It waits as long as it takes for spare
// writers, goroutines that are merely slow (preempted, or descheduled
// under load), to leave the segments they may read; it returns ErrFull
// only after maxWait during which an event loop did not announce a
// quiescent state (it may be stuck) or nothing could come back. It never
// takes past the overdraft, so memory stays bounded.
func (sh *Shard) newSegment(q int) (*segment, error) {
	a := &sh.c.ar
	over := a.overdraftMax()
	var deadline time.Time
	away := false
	for {
		seg, err := a.take(sh.node)
		if err == nil && seg == nil {
			seg, err = a.takeOver(sh.node, over)
		}
		if seg != nil {
			seg.queue = q
		}
		if err != nil || seg != nil {
			if away {
				sh.online()
			}
			return seg, err
		}
		if !away && (sh.q.spare || sh.release != nil) {
			if sh.release != nil {
				sh.release()
			}
			sh.offline()
			away = true
		}
		limbo, loopBehind := a.waitState()
		if !limbo && sh.evict() {
			continue // a segment is on its way back now
		}
		if limbo && !loopBehind {
			deadline = time.Time{}
			time.Sleep(spareWait)
			continue
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(maxWait)
		} else if now.After(deadline) {
			if away {
				sh.online()
			}
			return nil, ErrFull
		}
		runtime.Gosched()
	}
}

// fit appends size bytes to the open segment of queue q if they fit.
func (sh *Shard) fit(size, q int) (int, bool) {
	if sh.open[q] == nil || sh.end[q]+size > len(sh.open[q].mem) {
		return 0, false
	}
	off := sh.end[q]
	sh.end[q] += size
	return off, true
}

// allocMove is alloc for an entry being moved: it never evicts or waits,
// takes a segment past the limit only when over is set (an eviction,
// which frees a segment for the one it takes), and reports false when it
// has no room.
func (sh *Shard) allocMove(size, q int, over bool) (*segment, int, bool) {
	if off, ok := sh.fit(size, q); ok {
		return sh.open[q], off, true
	}
	a := &sh.c.ar
	seg, err := a.take(sh.node)
	if err == nil && seg == nil && over {
		seg, err = a.takeOver(sh.node, a.overdraftMax())
	}
	if err != nil || seg == nil {
		return nil, 0, false
	}
	seg.queue = q
	sh.sealOpen(q)
	sh.open[q], sh.end[q] = seg, size
	return seg, 0, true
}

// sealOpen hands the open segment of queue q to its queue.
func (sh *Shard) sealOpen(q int) {
	seg := sh.open[q]
	if seg == nil {
		return
	}
	seg.end = sh.end[q]
	sh.open[q], sh.end[q] = nil, 0
	sh.c.ar.seal(seg)
	if seg.live.Load() == 0 {
		sh.c.tryRetire(seg)
	}
}

// evict empties the sealed segment that arena.oldest picks: each live
// entry read since it was written or last moved is moved to the open
// segment of the main queue with its bit cleared (for a main segment,
// CLOCK's second chance) while there is room, every other one is
// deleted; one deleted from a small segment leaves its hash in the ghost
// table. Returns whether there was a segment to evict.
func (sh *Shard) evict() bool {
	seg := sh.c.ar.oldest()
	if seg == nil {
		return false
	}
	sh.walk(seg, walkEvict)
	sh.done(seg)
	return true
}

// done marks a busy segment that was emptied dead; its last live chunk
// (maybe already gone) retires it.
func (sh *Shard) done(seg *segment) {
	seg.state.Store(segDead)
	if seg.live.Load() == 0 {
		sh.c.tryRetire(seg)
	}
}

// What a walk does with a live entry that has not expired.
const (
	walkKeep  = iota // leave it (and note its expiry)
	walkMove         // move it to the open segment
	walkEvict        // move it to the main queue if it was read, else delete it
)

// walk goes over the chunks of a segment the Shard owns (busy or open,
// up to end) and deletes the expired ones, then does what mode says with
// the others. It reports whether every live entry left the segment.
func (sh *Shard) walk(seg *segment, mode int) bool {
	end := seg.end
	if seg == sh.open[seg.queue] {
		end = sh.end[seg.queue]
	}
	var minExp uint32
	all := true
	for off := 0; off < end; {
		ch := mustChunk(seg.mem, off)
		hd := mkHandle(seg.id, off)
		off += ch.size()
		if !sh.walkOne(hd, ch, mode, seg.queue) {
			all = false
			if exp := ch.expires(); exp != 0 && (minExp == 0 || exp < minExp) {
				minExp = exp
			}
		}
	}
	if mode == walkKeep {
		seg.minExp.Store(minExp)
	}
	return all
}

// walkOne handles one chunk of a segment of queue q; it reports whether
// the chunk is no longer the key's current value (it was dead already,
// or deleted or moved now).
func (sh *Shard) walkOne(hd handle, ch chunk, mode, q int) bool {
	c := sh.c
	h := c.hash(ch.key())
	for {
		s, pos, w, ok := sh.current(h, hd)
		if !ok {
			return true
		}
		if exp := ch.expires(); exp != 0 && exp <= sh.now {
			if sh.deleteIf(s, w, pos, ch) {
				sh.n.expirations.Add(1)
				return true
			}
			continue
		}
		if mode == walkKeep {
			return false
		}
		if mode == walkMove || w&visitedBit != 0 {
			to := mainQueue
			if mode == walkMove {
				to = q // compaction keeps an entry in its queue
			}
			moved, room := sh.move(s, w, ch, to, mode == walkEvict)
			switch {
			case moved:
				return true
			case room:
				continue // the slot changed: look again
			case mode == walkMove:
				return false // no room: it stays
			}
		}
		if sh.deleteIf(s, w, pos, ch) {
			sh.n.evictions.Add(1)
			if q == smallQueue {
				c.ghost.add(h)
			}
			return true
		}
	}
}

// current finds the slot that holds hd for a key of hash h: its map
// position and the slot's word. ok is false when no slot does: the chunk
// is not its key's current value.
func (sh *Shard) current(h uint64, hd handle) (s uint32, pos uint64, w uint64, ok bool) {
	c := sh.c
	for pos = h; ; pos++ {
		if s, ok = c.m.Load(pos); ok {
			if w = c.slots.at(s).Load(); handle(w).plain() == hd {
				return s, pos, w, true
			}
		}
		if pos != h || !c.collided.Load() {
			return 0, 0, 0, false
		}
	}
}

// move copies a chunk to the open segment of queue q and points slot s
// at the copy if it still holds w; it reports whether it did and whether
// there was room for the copy.
func (sh *Shard) move(s uint32, w uint64, ch chunk, q int, over bool) (moved, room bool) {
	size := ch.size()
	seg, off, ok := sh.allocMove(size, q, over)
	if !ok {
		return false, false
	}
	copy(seg.mem[off:off+size], ch.bytes())
	if exp := ch.expires(); exp != 0 {
		noteExpiry(seg, exp)
	}
	seg.live.Add(int64(size))
	if sh.c.slots.at(s).CompareAndSwap(w, uint64(mkHandle(seg.id, off))) {
		sh.kill(handle(w).plain(), size)
		return true, true
	}
	seg.live.Add(-int64(size))
	return false, true
}

// sweepLook is how many sealed segments one Maintain looks at for expiry
// or compaction: at four calls a second per shard, a store of 4,096
// segments (4 to 8 GiB) is looked over within a second by one shard.
const sweepLook = 1024

// Maintain does the Shard's share of background work; an event loop
// calls it a few times a second. It publishes the Shard's hit and miss
// counts to Stats, brings segments back from limbo,
// evicts ahead of need near the limit, deletes the expired entries of
// up to two segments whose earliest expiry has passed (and of its own
// open segment), and compacts wasteful segments (see wasteful).
func (sh *Shard) Maintain() { sh.maintain(true) }

// maintain is Maintain; without moves it neither evicts ahead nor
// compacts, the work that moves entries into the Shard's own segments.
func (sh *Shard) maintain(moves bool) {
	c := sh.c
	sh.publish()
	c.ar.lockedReclaim()
	if moves && c.ar.needEvict(c.readyTarget()) {
		sh.evict()
	}
	for _, seg := range sh.open {
		if seg != nil {
			if m := seg.minExp.Load(); m != 0 && m <= sh.now {
				sh.walk(seg, walkKeep)
			}
		}
	}
	now := sh.now
	segs := c.ar.sweep(sh.buf, sweepLook, func(seg *segment) bool {
		m := seg.minExp.Load()
		return m != 0 && m <= now || moves && wasteful(seg)
	})
	for _, seg := range segs {
		sh.walk(seg, walkKeep)
		if moves && wasteful(seg) && sh.walk(seg, walkMove) {
			sh.done(seg)
			continue
		}
		c.ar.requeue(seg)
		if seg.live.Load() == 0 {
			c.tryRetire(seg)
		}
	}
	clear(segs)
}

// wasteful reports whether a sealed segment is worth compacting: more
// than half of what was written to it is dead, or it was sealed less
// than a quarter full (by Close).
func wasteful(seg *segment) bool {
	live := seg.live.Load()
	return live*2 < int64(seg.end) || int64(seg.end)*4 < int64(len(seg.mem)) && live > 0
}

// Maintain does background work for the Cache's own writers (those of
// Set and Delete): call it a few times a second. Where event loops hold
// Shards, which evict ahead and compact for themselves, into segments of
// their own NUMA node, it only brings segments back from limbo and
// deletes expired entries: every loop may be blocked with no one to ask
// for those, and a move by a spare writer would put the entry in a
// segment of no node.
func (c *Cache) Maintain() {
	sh := c.spareShard()
	defer sh.unlockSpare()
	sh.now = c.sec(c.now())
	sh.maintain(!c.hasLoops())
}

// hasLoops reports whether any event loop holds a Shard.
func (c *Cache) hasLoops() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.shards) > 0
}
