package store

import (
	"sync/atomic"
	"unsafe"
)

// The eviction queues, after S3-FIFO (Yang et al., SOSP '23), at the
// granularity of segments: new entries are written to segments of the
// small queue; evicting a small segment moves the entries read since
// they were written to the main queue and drops the others, remembering
// their hashes in a ghost table, so that a key written again soon after
// (a miss it was evicted too early for) goes straight to the main queue.
// Evicting a main segment moves the entries read since they were written
// or last moved (CLOCK's second chance) and drops the others. The small
// queue is evicted first while it holds at least a tenth of the limit.
const (
	mainQueue  = 0
	smallQueue = 1
)

// smallShare is the share of the limit, as a divisor, past which the
// small queue is evicted first.
const smallShare = 10

// fifoEntry is a sealed segment in seal order; gen tells a stale entry
// (the segment was since reused) from a current one.
type fifoEntry struct {
	seg *segment
	gen uint64
}

// queue is a FIFO of sealed segments; its owner (the arena) locks it.
type queue struct {
	ents   []fifoEntry
	head   int // first entry still to consider
	cursor int // the sweep's position
}

func (q *queue) push(s *segment) { q.ents = append(q.ents, fifoEntry{s, s.gen.Load()}) }

// pending returns the entries not yet taken: the sealed segments in the
// queue, plus any that left it another way (an upper bound).
func (q *queue) pending() int { return len(q.ents) - q.head }

// pop takes the oldest sealed segment (it is then busy), or returns nil.
func (q *queue) pop() *segment {
	defer q.compact()
	for q.head < len(q.ents) {
		e := q.ents[q.head]
		q.ents[q.head] = fifoEntry{}
		q.head++
		if e.seg.gen.Load() == e.gen && e.seg.state.CompareAndSwap(segSealed, segBusy) {
			return e.seg
		}
	}
	return nil
}

// compact drops the consumed head once it is half of the queue.
func (q *queue) compact() {
	if q.head > 0 && q.head >= len(q.ents)/2 {
		n := copy(q.ents, q.ents[q.head:])
		clear(q.ents[n:])
		q.ents = q.ents[:n]
		q.cursor = max(0, q.cursor-q.head)
		q.head = 0
	}
}

// sweep looks at up to look sealed segments from the cursor and appends
// to out (up to its capacity) those for which want holds, taken (busy).
func (q *queue) sweep(out []*segment, look int, want func(*segment) bool) []*segment {
	for ; look > 0 && len(out) < cap(out) && len(q.ents) > q.head; look-- {
		if q.cursor < q.head || q.cursor >= len(q.ents) {
			q.cursor = q.head
		}
		e := q.ents[q.cursor]
		q.cursor++
		if e.seg.gen.Load() == e.gen && want(e.seg) && e.seg.state.CompareAndSwap(segSealed, segBusy) {
			out = append(out, e.seg)
		}
	}
	return out
}

// ghost remembers the hashes of entries evicted from the small queue
// unread: a direct-mapped table of 32-bit fingerprints, so a newer ghost
// overwrites an older one in its place. Lossy by design: a lost ghost
// only sends a key to the small queue. The table is mapped memory, not
// Go heap: its pages cost nothing until a ghost is written in them (a
// read of an untouched page maps the kernel's zero page).
type ghost struct {
	fp   []uint32 // accessed atomically
	mask uint64
}

// maxGhosts bounds the ghost table: 128 MiB of fingerprints.
const maxGhosts = 1 << 25

// newGhost returns a table of at least n and at most maxGhosts slots, a
// power of two; an empty one if the memory cannot be mapped.
func newGhost(n int) ghost {
	size := 1 << 16
	for size < n && size < maxGhosts {
		size *= 2
	}
	mem, err := mapAnon(4*size, -1)
	if err != nil {
		return ghost{}
	}
	return ghost{fp: unsafe.Slice((*uint32)(unsafe.Pointer(&mem[0])), size), mask: uint64(size - 1)}
}

func fingerprint(h uint64) uint32 { return uint32(h>>32) | 1 }

// add remembers h.
func (g *ghost) add(h uint64) {
	if g.fp != nil {
		atomic.StoreUint32(&g.fp[h&g.mask], fingerprint(h))
	}
}

// take reports whether h is remembered, and forgets it.
func (g *ghost) take(h uint64) bool {
	if g.fp == nil {
		return false
	}
	p := &g.fp[h&g.mask]
	if atomic.LoadUint32(p) != fingerprint(h) {
		return false
	}
	atomic.StoreUint32(p, 0)
	return true
}
