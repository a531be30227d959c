package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSegmentSize is the size of the blocks of memory a Cache maps for
// its entries when Config.SegmentSize is 0: the memcached page and
// Segcache segment size.
const DefaultSegmentSize = 1 << 20

// Eviction says what a Cache does when a write would take it past
// Config.MaxBytes.
type Eviction int

const (
	// Evict makes room by evicting the least recently written entries
	// that were not read since they were last considered (CLOCK over
	// segments in write order): every write succeeds.
	Evict Eviction = iota
	// EvictNone refuses the write with ErrFull instead.
	EvictNone
)

// More errors.
var (
	// ErrTooLarge is returned by Set for an entry larger than a segment.
	ErrTooLarge = errors.New("store: entry larger than a segment")
	// ErrKeyTooLong is returned by Set for a key over 65535 bytes.
	ErrKeyTooLong = errors.New("store: key longer than 65535 bytes")
)

// Cache is the server's store: an index (xsync.MapOfs) from a key's
// 64-bit hash to a slot, a table of slots holding handles, and the
// entries themselves (a header, the key and the value) in segments of
// memory the Cache maps itself, outside the garbage collector's heap.
//
// Each event loop reads and writes through its own Shard, which reads
// values zero-copy under the value-lifetime rule (see Shard.Quiescent).
// Other goroutines use the Cache's own methods, which copy.
type Cache struct {
	cfg      Config
	seed     maphash.Seed
	m        index
	slots    slots
	ar       arena
	q        qsbr
	base     int64 // Unix seconds of store second 0
	collided atomic.Bool
	budget   budget // EvictNone: the exact bound on key+value bytes
	ghost    ghost  // Evict with a limit: see queue.go
	now      func() time.Time

	mu     sync.Mutex
	shards []*Shard // every Shard, for Stats
	spare  []*Shard // writers for goroutines, each behind its mu
}

// New returns an empty Cache for cfg.
func New(cfg Config) (*Cache, error) {
	cfg = cfg.cacheDefaults()
	if cfg.SegmentSize < 64 || cfg.SegmentSize%4 != 0 || cfg.SegmentSize > 1<<31 {
		return nil, fmt.Errorf("store: segment size %d: want a multiple of 4 from 64 to 2 GiB", cfg.SegmentSize)
	}
	c := &Cache{cfg: cfg, seed: maphash.MakeSeed(), now: cfg.Now}
	c.m.init(cfg.Presize)
	c.slots.init()
	c.q.init()
	arenaMax := int64(0)
	if cfg.Eviction == Evict {
		arenaMax = cfg.MaxBytes
	} else {
		c.budget.max = cfg.MaxBytes
	}
	c.ar.init(cfg.SegmentSize, arenaMax, c.indexBytes, cfg.Map, &c.q)
	if arenaMax > 0 {
		c.ghost = newGhost(int(arenaMax / 256)) // a ghost per 256 bytes of the limit
	}
	c.base = cfg.Now().Unix() - 1
	for range max(1, runtime.GOMAXPROCS(0)) {
		sh := c.newShard(-1, false)
		c.spare = append(c.spare, sh)
	}
	return c, nil
}

// cacheDefaults fills in what a Cache needs.
func (c Config) cacheDefaults() Config {
	if c.SegmentSize == 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.MaxBytes < 0 {
		c.MaxBytes = 0
	}
	if c.Map == nil {
		c.Map = mapAnon
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c *Cache) hash(key []byte) uint64 { return maphash.Bytes(c.seed, key) }

// sec returns t in store seconds.
func (c *Cache) sec(t time.Time) uint32 { return uint32(max(0, t.Unix()-c.base)) }

// left returns the time an entry that expires at exp has left to live at
// now (store seconds), 0 for none.
func left(exp, now uint32) time.Duration {
	if exp == 0 {
		return 0
	}
	return time.Duration(exp-now) * time.Second
}

// reserve takes delta bytes (a negative delta gives them back) from the
// EvictNone budget, and reports whether it could; without one it does
// nothing and reports true.
func (c *Cache) reserve(delta int64) bool {
	if c.budget.max == 0 {
		return true
	}
	return c.budget.reserve(delta)
}

// unreserve gives back a reservation that did not take effect, whatever
// its sign: unlike reserve it never refuses.
func (c *Cache) unreserve(delta int64) {
	if c.budget.max != 0 {
		c.budget.used.Add(-delta)
	}
}

// chunkAt returns the chunk a handle names.
func (c *Cache) chunkAt(h handle) chunk { return mustChunk(c.ar.seg(h.id()).mem, h.off()) }

// IndexBytesPerEntry is what a Cache with Evict counts for each entry's
// share of the index against Config.MaxBytes: the map's table (64-byte
// buckets of up to five entries, at most three quarters full before it
// doubles), its 16-byte entry object and the 8-byte slot, measured at
// 41 to 58 bytes, rounded up for the table's growth.
const IndexBytesPerEntry = 64

// indexBytes returns the bytes counted for the index.
func (c *Cache) indexBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(0)
	for _, sh := range c.shards {
		n += sh.n.items.Load()
	}
	for _, sh := range c.spare {
		n += sh.n.items.Load()
	}
	return max(0, n) * IndexBytesPerEntry
}

// readyTarget returns the number of segments to keep free (ready, or on
// their way back from limbo) for writers: three (one for new entries,
// one for those an eviction moves, one still in limbo from the last
// eviction), and one more per eight shards.
func (c *Cache) readyTarget() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return 3 + len(c.shards)/8
}

// spareShard locks and returns a writer for a goroutine: the first one
// free, so that only as many spare writers hold open segments (two
// each, up to one writer per GOMAXPROCS) as goroutines write at once,
// rather than every one of them after a while.
func (c *Cache) spareShard() *Shard {
	for _, sh := range c.spare {
		if sh.mu.TryLock() {
			sh.online()
			return sh
		}
	}
	sh := c.spare[rand.IntN(len(c.spare))]
	sh.mu.Lock()
	sh.online()
	return sh
}

func (sh *Shard) unlockSpare() {
	sh.offline()
	sh.mu.Unlock()
}

// Set stores a copy of value under key with a time to live (0 or less:
// none), from any goroutine. See Shard.Set.
func (c *Cache) Set(key, value []byte, ttl time.Duration) error {
	sh := c.spareShard()
	defer sh.unlockSpare()
	sh.now = c.sec(c.now())
	return sh.Set(key, value, ttl)
}

// Delete removes key and reports whether it was there, from any goroutine.
func (c *Cache) Delete(key []byte) bool {
	sh := c.spareShard()
	defer sh.unlockSpare()
	sh.now = c.sec(c.now())
	return sh.Delete(key)
}

// Get appends the value stored under key to dst, from any goroutine, and
// returns it with the time it has left to live in whole seconds (0: it
// does not expire). It takes no lock
// and needs no Shard: it copies the value, then checks that the segment
// it came from was not reused meanwhile, and copies again if it was.
func (c *Cache) Get(dst, key []byte) ([]byte, time.Duration, bool) {
	h := c.hash(key)
	if v, exp, ok := c.copyAt(dst, h, key); ok {
		return v, exp, true
	}
	if c.collided.Load() {
		return c.copyAt(dst, h+1, key)
	}
	return dst, 0, false
}

// copyAt is Get at one map position.
func (c *Cache) copyAt(dst []byte, pos uint64, key []byte) ([]byte, time.Duration, bool) {
	s, ok := c.m.Load(pos)
	if !ok {
		return dst, 0, false
	}
	n := len(dst)
	for {
		w := c.slots.at(s).Load()
		hd := handle(w).plain()
		if hd == 0 {
			return dst, 0, false
		}
		seg := c.ar.seg(hd.id())
		gen := seg.gen.Load()
		if c.slots.load(s) != hd {
			continue
		}
		// Until the second look at gen, what follows may read a segment
		// that is being reused: bound every index by what was read.
		ch, ok := chunkAt(seg.mem, hd.off())
		k, v, at := ch.klen(), ch.vlen(), ch.hlen()
		match := ok && at+k+v <= len(ch.b) && bytes.Equal(ch.b[at:at+k], key)
		var exp uint32
		if match {
			exp = ch.expires()
			dst = append(dst[:n], ch.b[at+k:at+k+v]...)
		}
		fence()
		if seg.gen.Load() != gen {
			continue // the segment was reused under us: copy again
		}
		if !match {
			return dst[:n], 0, false
		}
		now := c.sec(c.now())
		if exp != 0 && exp <= now {
			return dst[:n], 0, false
		}
		if w&visitedBit == 0 {
			c.slots.at(s).Or(visitedBit)
		}
		return dst, left(exp, now), true
	}
}

// fence orders the plain loads of a copy before the atomic load that
// follows it: an atomic read-modify-write is a full barrier on every
// architecture Go supports, where a plain atomic load is not (arm64).
func fence() {
	var f atomic.Uint32
	f.Add(1)
}

// Len returns the number of entries.
func (c *Cache) Len() int { return int(c.Stats().Items) }

// Bytes returns the sum of len(key)+len(value) over all entries.
func (c *Cache) Bytes() int64 { return c.Stats().Bytes }

// Stats describes a Cache at one moment.
type Stats struct {
	Items int64 `json:"items"` // entries
	Bytes int64 `json:"bytes"` // key plus value bytes of the entries
	// ArenaBytes is the memory mapped for entries and not given back:
	// resident, or on its way to be.
	ArenaBytes int64 `json:"arena_bytes"`
	// BytesByNode splits ArenaBytes by the NUMA node each segment was
	// mapped for: index 0 is node -1 (no preference), index i+1 node i.
	BytesByNode []int64 `json:"arena_bytes_by_node"`
	Segments    int     `json:"segments"`    // segments ever mapped
	Evictions   int64   `json:"evictions"`   // entries evicted to make room
	Expirations int64   `json:"expirations"` // entries removed when their time to live ran out
	// Hits and Misses count the Gets of the Shards (event loops) that
	// found a value or did not, as of each Shard's last Maintain.
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Overdrafts counts segments taken past the limit because none
	// could be reused yet (the grace period was not over).
	Overdrafts int64 `json:"overdrafts"`
}

// Stats sums the shards' counters; it takes the arena's lock once.
func (c *Cache) Stats() Stats {
	var st Stats
	c.mu.Lock()
	all := append(append([]*Shard(nil), c.shards...), c.spare...)
	c.mu.Unlock()
	for _, sh := range all {
		n := &sh.n
		st.Items += n.items.Load()
		st.Bytes += n.bytes.Load()
		st.Evictions += n.evictions.Load()
		st.Expirations += n.expirations.Load()
		st.Hits += n.hits.Load()
		st.Misses += n.misses.Load()
	}
	a := c.ar.stats()
	st.ArenaBytes = int64(a.resident) * int64(c.cfg.SegmentSize)
	st.BytesByNode = a.nodeBytes
	st.Segments = a.mapped
	st.Overdrafts = a.overdraft
	return st
}

// BytesByNode returns Stats().BytesByNode.
func (c *Cache) BytesByNode() []int64 { return c.ar.stats().nodeBytes }
