package store

import (
	"sync"
	"sync/atomic"
)

// Segment states. A segment goes free → open (one Shard appends to it) →
// sealed (full, in the FIFO) → busy (a Shard evicts, sweeps or compacts
// it) → dead (nothing new will point into it) → limbo (no chunk is live;
// waiting for the grace period) → free.
const (
	segFree int32 = iota
	segOpen
	segSealed
	segBusy
	segDead
	segLimbo
)

// segment is one mapped block of memory holding chunks. Segments are
// never unmapped, so a stale handle always names readable memory.
type segment struct {
	mem  []byte
	id   uint32
	node int
	// gen changes each time the segment's memory may change under a
	// reader: when it is taken for writing (arena.open) and when its
	// pages are given back (arena.release), so that a copying reader
	// can tell whether what it copied was rewritten or zeroed.
	gen   atomic.Uint64
	live  atomic.Int64 // bytes of published chunks that are still current
	state atomic.Int32
	// end is the bytes appended; set by the owner before it seals.
	end int
	// minExp is the earliest expiry of a chunk with a TTL, 0 for none;
	// written by whoever owns the segment (open or busy).
	minExp atomic.Uint32
	tag    uint64 // QSBR tag while in limbo
	// queue is the eviction queue the segment is sealed into; set by its
	// writer when it opens it.
	queue int
	// released is whether the pages were given back to the kernel.
	released bool
}

// arena hands out segments, at most limit() of them resident at once,
// and takes them back after the grace period.
type arena struct {
	size     int
	maxBytes int64        // 0: unlimited
	index    func() int64 // the bytes the index takes, out of maxBytes
	mapFn    func(size, node int) ([]byte, error)
	q        *qsbr

	// tab is indexed by segment id, for readers: it is only ever
	// replaced by a longer copy, and entries are written before any
	// handle naming them is published.
	tab atomic.Pointer[[]*segment]

	mu        sync.Mutex
	n         int          // segments mapped; ids are 1..n
	ready     [][]*segment // free and resident, by node+1
	nready    int
	released  []*segment // free, pages given back
	limbo     []*segment
	queues    [2]queue // mainQueue, smallQueue
	resident  int
	nodeBytes []int64 // resident bytes by node+1
	overdraft int64
}

func (a *arena) init(size int, maxBytes int64, index func() int64, mapFn func(int, int) ([]byte, error), q *qsbr) {
	a.size, a.maxBytes, a.index, a.mapFn, a.q = size, maxBytes, index, mapFn, q
	tab := make([]*segment, 64)
	a.tab.Store(&tab)
}

// limit returns how many segments may be resident, 0 for any number:
// what maxBytes leaves once the index has its share, and at least two.
func (a *arena) limit() int {
	if a.maxBytes == 0 {
		return 0
	}
	return max(2, int((a.maxBytes-a.index())/int64(a.size)))
}

// seg returns the segment with id; any id from a published handle is valid.
func (a *arena) seg(id uint32) *segment { return (*a.tab.Load())[id] }

// take returns a free segment for a writer on node, mapping a new one if
// fewer than max are resident; nil when the arena is full.
func (a *arena) take(node int) (*segment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reclaim()
	if s := a.popReady(node); s != nil {
		return a.open(s), nil
	}
	if max := a.limit(); max > 0 && a.resident >= max {
		return nil, nil
	}
	return a.grow(node)
}

// overdraftMax is how many segments past the limit a writer may take:
// 1/32 of the limit, at least four.
func (a *arena) overdraftMax() int { return max(4, int(a.maxBytes/int64(a.size)/32)) }

// takeOver is take past max, by at most over segments: the writer cannot
// wait for the grace period. It returns nil when over are out already.
func (a *arena) takeOver(node, over int) (*segment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reclaim()
	if s := a.popReady(node); s != nil {
		return a.open(s), nil
	}
	if a.resident >= a.limit()+over {
		return nil, nil
	}
	a.overdraft++
	return a.grow(node)
}

// grow brings a released segment back or maps a new one.
func (a *arena) grow(node int) (*segment, error) {
	for i := len(a.released) - 1; i >= 0; i-- {
		if s := a.released[i]; s.node == node || i == 0 {
			a.released = append(a.released[:i], a.released[i+1:]...)
			s.released = false
			a.addResident(s, 1)
			return a.open(s), nil
		}
	}
	mem, err := a.mapFn(a.size, node)
	if err != nil {
		return nil, err
	}
	a.n++
	s := &segment{mem: mem, id: uint32(a.n), node: node}
	tab := *a.tab.Load()
	if s.id >= uint32(len(tab)) {
		bigger := make([]*segment, 2*len(tab))
		copy(bigger, tab)
		tab = bigger
		tab[s.id] = s
		a.tab.Store(&tab)
	} else {
		tab[s.id] = s
	}
	a.addResident(s, 1)
	return a.open(s), nil
}

func (a *arena) addResident(s *segment, n int) {
	a.resident += n
	for len(a.nodeBytes) <= s.node+1 {
		a.nodeBytes = append(a.nodeBytes, 0)
	}
	a.nodeBytes[s.node+1] += int64(n * a.size)
}

// open readies s for a new writer.
func (a *arena) open(s *segment) *segment {
	s.gen.Add(1)
	s.live.Store(0)
	s.end = 0
	s.minExp.Store(0)
	s.state.Store(segOpen)
	return s
}

// popReady takes a ready segment, from node if it has one.
func (a *arena) popReady(node int) *segment {
	if a.nready == 0 {
		return nil
	}
	pick := node + 1
	if pick >= len(a.ready) || len(a.ready[pick]) == 0 {
		for i := range a.ready {
			if len(a.ready[i]) > 0 {
				pick = i
				break
			}
		}
	}
	l := a.ready[pick]
	s := l[len(l)-1]
	a.ready[pick] = l[:len(l)-1]
	a.nready--
	return s
}

// keepReady is how many free segments the arena keeps resident for the
// writers; it gives the pages of any more back to the kernel, so that
// resident memory follows the bytes stored after deletes and expiry.
const keepReady = 8

// reclaim moves segments whose grace period is over from limbo to ready,
// or gives their pages back while more than max are resident or
// keepReady are ready. a.mu held.
func (a *arena) reclaim() {
	if len(a.limbo) == 0 {
		return
	}
	safe := a.q.min()
	max := a.limit()
	kept := a.limbo[:0]
	for _, s := range a.limbo {
		if s.tag > safe {
			kept = append(kept, s)
			continue
		}
		s.state.Store(segFree)
		if (max > 0 && a.resident > max || a.nready >= keepReady) && a.release(s) {
			a.addResident(s, -1)
			a.released = append(a.released, s)
			continue
		}
		for len(a.ready) <= s.node+1 {
			a.ready = append(a.ready, nil)
		}
		a.ready[s.node+1] = append(a.ready[s.node+1], s)
		a.nready++
	}
	clear(a.limbo[len(kept):])
	a.limbo = kept
}

// release gives the pages of free segment s back to the kernel, which
// zeroes them: that is a write to the segment, so it changes gen first.
// A copying reader (Cache.copyAt) is in no QSBR slot and may still be
// reading a chunk of s; without the new gen it could read the header
// before the zeroing and the value after, see gen unchanged, and return
// zeros for the value. a.mu held.
func (a *arena) release(s *segment) bool {
	s.gen.Add(1)
	if release(s.mem) != nil {
		return false
	}
	s.released = true
	return true
}

func (a *arena) lockedReclaim() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reclaim()
}

// retire puts a segment with no live chunk in limbo.
func (a *arena) retire(s *segment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.tag = a.q.retire()
	a.limbo = append(a.limbo, s)
}

// seal queues a full segment for eviction, oldest first.
func (a *arena) seal(s *segment) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.state.Store(segSealed)
	a.queues[s.queue].push(s)
}

// oldest takes the segment to evict (it is then busy), or returns nil:
// the oldest of the small queue while that holds a tenth of the limit or
// more, else the oldest of the main queue.
func (a *arena) oldest() *segment {
	a.mu.Lock()
	defer a.mu.Unlock()
	first := mainQueue
	if a.queues[smallQueue].pending()*smallShare >= a.limit() {
		first = smallQueue
	}
	if s := a.queues[first].pop(); s != nil {
		return s
	}
	return a.queues[1-first].pop()
}

// sweep looks at up to look sealed segments of each queue, from the
// sweep's cursor, and takes (makes busy) and returns up to len(buf) of
// them for which want holds; the rest stay in their queues.
func (a *arena) sweep(buf []*segment, look int, want func(*segment) bool) []*segment {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.queues[mainQueue].sweep(buf[:0], look, want)
	return a.queues[smallQueue].sweep(out, look, want)
}

// requeue makes a swept segment sealed again; its FIFO entry never left.
func (a *arena) requeue(s *segment) {
	s.state.Store(segSealed)
}

// needEvict reports whether the arena is so close to max that a writer
// should evict a segment now, ahead of the next one it needs: fewer than
// reserve segments are ready or on their way back from limbo.
func (a *arena) needEvict(reserve int) bool {
	if a.maxBytes == 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.resident-a.nready-len(a.limbo)+reserve > a.limit()
}

// waitState says what a writer that found no segment to take is
// waiting for: whether any segment is in limbo, and whether an event
// loop (not a spare writer, which is only slow) has not announced a
// quiescent state since one of them was retired.
func (a *arena) waitState() (limbo, loopBehind bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	loops := a.q.minLoops()
	for _, s := range a.limbo {
		if s.tag > loops {
			return true, true
		}
	}
	return len(a.limbo) > 0, false
}

// arenaStats is the arena's part of Stats.
type arenaStats struct {
	resident, mapped int
	nodeBytes        []int64
	overdraft        int64
}

func (a *arena) stats() arenaStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return arenaStats{a.resident, a.n, append([]int64(nil), a.nodeBytes...), a.overdraft}
}
