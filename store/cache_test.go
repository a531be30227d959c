package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newCache(t testing.TB, cfg Config) *Cache {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cacheAPIs are the two ways to use a Cache: through a Shard, and through
// the Cache's own copying methods.
var cacheAPIs = []struct {
	name string
	new  func(*Cache) kv
}{
	{"shard", func(c *Cache) kv { return shardKV{c.NewShard(-1)} }},
	{"goroutine", func(c *Cache) kv { return cacheKV{c} }},
}

// kv is what the table test drives.
type kv interface {
	Get(key []byte) ([]byte, bool)
	Set(key, value []byte) error
	Delete(key []byte) bool
}

type shardKV struct{ sh *Shard }

func (s shardKV) Get(key []byte) ([]byte, bool) {
	v, _, ok := s.sh.Get(key)
	return v, ok
}
func (s shardKV) Set(key, value []byte) error { return s.sh.Set(key, value, 0) }
func (s shardKV) Delete(key []byte) bool      { return s.sh.Delete(key) }

type cacheKV struct{ c *Cache }

func (s cacheKV) Get(key []byte) ([]byte, bool) {
	v, _, ok := s.c.Get(nil, key)
	return v, ok
}
func (s cacheKV) Set(key, value []byte) error { return s.c.Set(key, value, 0) }
func (s cacheKV) Delete(key []byte) bool      { return s.c.Delete(key) }

// TestCache runs the store's table through both APIs, with EvictNone so
// that the limit cases refuse as before.
func TestCache(t *testing.T) {
	for _, api := range cacheAPIs {
		for _, tc := range storeCases {
			t.Run(api.name+"/"+tc.name, func(t *testing.T) {
				cfg := tc.cfg
				cfg.Eviction = EvictNone
				cfg.SegmentSize = 4096
				c := newCache(t, cfg)
				s := api.new(c)
				for i, o := range tc.in {
					applyKV(t, s, i, o)
				}
				if got := c.Len(); got != tc.wantLen {
					t.Errorf("Len() = %d, want %d", got, tc.wantLen)
				}
				if got := c.Bytes(); got != tc.wantBytes {
					t.Errorf("Bytes() = %d, want %d", got, tc.wantBytes)
				}
			})
		}
	}
}

func applyKV(t *testing.T, s kv, i int, o op) {
	t.Helper()
	switch o.do {
	case "set":
		if err := s.Set([]byte(o.key), o.value); !errors.Is(err, o.wantErr) {
			t.Fatalf("step %d: Set(%q, %q) = %v, want %v", i, o.key, o.value, err, o.wantErr)
		}
	case "get":
		got, ok := s.Get([]byte(o.key))
		if ok != o.ok || !bytes.Equal(got, o.value) {
			t.Fatalf("step %d: Get(%q) = %q, %v, want %q, %v", i, o.key, got, ok, o.value, o.ok)
		}
	case "delete":
		if ok := s.Delete([]byte(o.key)); ok != o.ok {
			t.Fatalf("step %d: Delete(%q) = %v, want %v", i, o.key, ok, o.ok)
		}
	}
}

// TestCacheErrors checks the entries a Cache refuses.
func TestCacheErrors(t *testing.T) {
	c := newCache(t, Config{SegmentSize: 1024})
	sh := c.NewShard(-1)
	tests := []struct {
		name  string
		key   []byte
		value []byte
		want  error
	}{
		{"fits exactly", []byte("k"), make([]byte, 1024-1-1-2), nil}, // 2-byte vlen
		{"one byte more", []byte("k"), make([]byte, 1024-1-1-2+1), ErrTooLarge},
		{"larger than a segment", []byte("k"), make([]byte, 1024), ErrTooLarge},
		{"key too long", make([]byte, maxKeyLen+1), nil, ErrKeyTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := sh.Set(tc.key, tc.value, 0); !errors.Is(err, tc.want) {
				t.Fatalf("Set(%d-byte key, %d bytes) = %v, want %v", len(tc.key), len(tc.value), err, tc.want)
			}
		})
	}
	if _, err := New(Config{SegmentSize: 63}); err == nil {
		t.Error("New(SegmentSize 63) succeeded, want an error")
	}
}

// TestShardGetZeroCopy checks that a Shard's Get returns the arena's
// bytes (no copy) and the Cache's Get a copy.
func TestShardGetZeroCopy(t *testing.T) {
	c := newCache(t, Config{})
	sh := c.NewShard(-1)
	if err := sh.Set([]byte("k"), []byte("value"), 0); err != nil {
		t.Fatal(err)
	}
	v1, _, _ := sh.Get([]byte("k"))
	v2, _, _ := sh.Get([]byte("k"))
	if &v1[0] != &v2[0] {
		t.Error("two Shard Gets returned different memory: Get copied")
	}
	if cap(v1) != len(v1) {
		t.Errorf("Get returned cap %d > len %d: an append would write into the arena", cap(v1), len(v1))
	}
	v3, _, _ := c.Get(nil, []byte("k"))
	if &v3[0] == &v1[0] || string(v3) != "value" {
		t.Errorf("Cache.Get = %q at %p, want a copy of %q", v3, &v3[0], v1)
	}
}

// TestCacheAllocs guards the hot paths: a Shard's Get (hit and miss) and
// an overwrite allocate nothing; the Cache's Get allocates nothing into
// a buffer with room.
func TestCacheAllocs(t *testing.T) {
	c := newCache(t, Config{})
	sh := c.NewShard(-1)
	key, value := []byte("key"), bytes.Repeat([]byte("v"), 100)
	if err := sh.Set(key, value, time.Minute); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	tests := []struct {
		name string
		f    func()
	}{
		{"shard get hit", func() { sh.Get(key) }},
		{"shard get miss", func() { sh.Get([]byte("absent")) }},
		{"shard overwrite", func() { sh.Set(key, value, 0) }},
		{"cache get hit", func() { c.Get(buf[:0], key) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
				t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
			}
		})
	}
}

// TestTTL checks expiry with an injected clock: the expiry Get reports,
// a miss once it passes, the count, and that Maintain reclaims expired
// entries nobody asks for.
func TestTTL(t *testing.T) {
	clk := newClock()
	c := newCache(t, Config{Now: clk.Now, SegmentSize: 4096})
	sh := c.NewShard(-1)
	sh.Quiescent(clk.Now())
	if err := sh.Set([]byte("short"), []byte("1"), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := sh.Set([]byte("forever"), []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	for i := range 50 { // fill a few segments with entries that expire
		if err := sh.Set(fmt.Appendf(nil, "t%d", i), make([]byte, 300), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, ttl, ok := sh.Get([]byte("short")); !ok || ttl != 2*time.Second {
		t.Fatalf("Get(short) = TTL %v, %v; want 2s (1.5 s rounded up), true", ttl, ok)
	}
	if _, ttl, ok := c.Get(nil, []byte("short")); !ok || ttl != 2*time.Second {
		t.Fatalf("Cache.Get(short) = TTL %v, %v; want 2s, true", ttl, ok)
	}
	if _, ttl, _ := sh.Get([]byte("forever")); ttl != 0 {
		t.Errorf("Get(forever) TTL = %v, want 0", ttl)
	}
	clk.add(time.Second)
	sh.Quiescent(clk.Now())
	if _, ttl, ok := sh.Get([]byte("short")); !ok || ttl != time.Second {
		t.Fatalf("a second later: Get(short) = TTL %v, %v; want 1s, true", ttl, ok)
	}
	clk.add(time.Second)
	sh.Quiescent(clk.Now())
	if _, _, ok := sh.Get([]byte("short")); ok {
		t.Error("Get(short) found it after its TTL")
	}
	if _, _, ok := c.Get(nil, []byte("short")); ok {
		t.Error("Cache.Get(short) found it after its TTL")
	}
	if st := c.Stats(); st.Expirations != 1 || st.Items != 51 {
		t.Errorf("after one lazy expiry: Expirations %d, Items %d; want 1, 51", st.Expirations, st.Items)
	}
	clk.add(10 * time.Second)
	sh.Quiescent(clk.Now())
	for range 20 {
		sh.Maintain()
	}
	st := c.Stats()
	if st.Expirations != 51 || st.Items != 1 || st.Bytes != int64(len("forever")+1) {
		t.Errorf("after Maintain: Expirations %d, Items %d, Bytes %d; want 51, 1, 8", st.Expirations, st.Items, st.Bytes)
	}
	if v, _, ok := sh.Get([]byte("forever")); !ok || string(v) != "2" {
		t.Errorf("Get(forever) = %q, %v after the sweep", v, ok)
	}

	// A shard whose open segment holds an entry that expires says so
	// (its loop then keeps waking to sweep it), until it is swept.
	other := c.NewShard(-1)
	other.Quiescent(clk.Now())
	if other.Expiring() {
		t.Error("Expiring() = true for a shard that wrote nothing")
	}
	if err := other.Set([]byte("other"), []byte("3"), time.Second); err != nil {
		t.Fatal(err)
	}
	if !other.Expiring() {
		t.Error("Expiring() = false with an entry that expires in its open segment")
	}
	clk.add(2 * time.Second)
	other.Quiescent(clk.Now())
	other.Maintain()
	if other.Expiring() || c.Stats().Expirations != 52 {
		t.Errorf("after its Maintain: Expiring() = %v, Expirations %d; want false, 52", other.Expiring(), c.Stats().Expirations)
	}
}

// TestEvict writes far past the limit: every write succeeds, the arena
// stays within the limit, evictions are counted, and entries read since
// they were written survive the eviction of their segment.
func TestEvict(t *testing.T) {
	const seg = 4096
	c := newCache(t, Config{MaxBytes: 16 * seg, SegmentSize: seg})
	sh := c.NewShard(-1)
	value := make([]byte, 200)
	hot := []byte("hot")
	if err := sh.Set(hot, value, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		sh.Quiescent(time.Now())
		if _, _, ok := sh.Get(hot); !ok {
			t.Fatalf("write %d: the hot key was evicted", i)
		}
		if err := sh.Set(fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
			t.Fatalf("Set #%d: %v", i, err)
		}
	}
	st := c.Stats()
	if st.ArenaBytes > 16*seg {
		t.Errorf("ArenaBytes = %d, limit %d", st.ArenaBytes, 16*seg)
	}
	if st.Evictions == 0 || st.Items+st.Evictions != 2001 {
		t.Errorf("Items %d + Evictions %d, want 2001 with some evictions", st.Items, st.Evictions)
	}
	if st.Overdrafts != 0 {
		t.Errorf("Overdrafts = %d with one writer that announces each write, want 0", st.Overdrafts)
	}
	if v, _, ok := sh.Get([]byte("k1999")); !ok || len(v) != 200 {
		t.Errorf("Get(newest key) = %d bytes, %v", len(v), ok)
	}
}

// TestOverwriteReusesMemory overwrites the same keys many times: the
// arena must not grow past what the live entries need plus a few
// segments.
func TestOverwriteReusesMemory(t *testing.T) {
	const seg = 64 << 10
	c := newCache(t, Config{SegmentSize: seg})
	sh := c.NewShard(-1)
	value := make([]byte, 1000)
	for round := range 10 {
		for i := range 1000 {
			sh.Quiescent(time.Now())
			if err := sh.Set(fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
				t.Fatal(err)
			}
		}
		sh.Maintain()
		if st := c.Stats(); st.ArenaBytes > 1000*1020+4*seg {
			t.Fatalf("round %d: ArenaBytes = %d for %d bytes stored", round, st.ArenaBytes, st.Bytes)
		}
	}
}

// stored reports whether key has a value, without reading it (a read
// would set its visited bit).
func stored(c *Cache, key string) bool {
	s, ok := c.m.Load(c.hash([]byte(key)))
	return ok && c.slots.load(s) != 0
}

// queueOf returns the eviction queue of key's current chunk.
func queueOf(t *testing.T, c *Cache, key string) int {
	t.Helper()
	s, ok := c.m.Load(c.hash([]byte(key)))
	if !ok {
		t.Fatalf("%q is not stored", key)
	}
	return c.ar.seg(c.slots.load(s).id()).queue
}

// TestSmallQueueAndGhost checks S3-FIFO's paths (queue.go): a new entry
// goes to the small queue; evicted from it unread, it leaves a ghost, and
// written again it goes to the main queue; an entry read while in the
// small queue is moved to the main queue when its segment is evicted.
func TestSmallQueueAndGhost(t *testing.T) {
	const seg = 4096
	c := newCache(t, Config{MaxBytes: 32 * seg, SegmentSize: seg})
	sh := c.NewShard(-1)
	value := make([]byte, 200)
	set := func(key string) {
		t.Helper()
		sh.Quiescent(time.Now())
		if err := sh.Set([]byte(key), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	set("once")
	set("read")
	if q := queueOf(t, c, "once"); q != smallQueue {
		t.Fatalf("a new entry is in queue %d, want the small queue", q)
	}
	for i := 0; stored(c, "once"); i++ { // until evicted unread, from the small queue
		if i == 10_000 {
			t.Fatal("an entry never read was not evicted after 10,000 writes")
		}
		sh.Quiescent(time.Now())
		if _, _, ok := sh.Get([]byte("read")); !ok {
			t.Fatalf("write %d: the entry read at every write was evicted", i)
		}
		set(fmt.Sprintf("filler%d", i))
	}
	if q := queueOf(t, c, "read"); q != mainQueue {
		t.Errorf("an entry read in the small queue is in queue %d after its segment was evicted, want main", q)
	}
	set("once")
	if q := queueOf(t, c, "once"); q != mainQueue {
		t.Errorf("an entry written again after its eviction from the small queue is in queue %d, want main (its ghost)", q)
	}
	if st := c.Stats(); st.Overdrafts != 0 {
		t.Errorf("Overdrafts = %d with one writer that announces each write, want 0", st.Overdrafts)
	}
}

// TestCacheMaintainBesideLoops checks what Cache.Maintain does where an
// event loop has a Shard and is blocked (offline): it deletes the
// entries that expired in the loop's sealed segments, but moves no
// entry, so that none leaves its writer's node for the spare writer's
// segment of no node, although half of each segment is dead.
func TestCacheMaintainBesideLoops(t *testing.T) {
	clk := newClock()
	c := newCache(t, Config{Now: clk.Now, SegmentSize: 4096})
	loop := c.NewShard(0)
	loop.Quiescent(clk.Now())
	const n = 60 // 300-byte values: about 13 to a segment
	for i := range n {
		ttl := time.Duration(0)
		if i%2 == 0 {
			ttl = time.Second
		}
		if err := loop.Set(fmt.Appendf(nil, "k%d", i), make([]byte, 300), ttl); err != nil {
			t.Fatal(err)
		}
	}
	loop.Offline()
	clk.add(2 * time.Second)
	for range 4 {
		c.Maintain()
	}
	st := c.Stats()
	if st.Expirations < n/2-13 {
		t.Errorf("Expirations = %d, want the %d entries that expired, less those of the loop's open segment", st.Expirations, n/2)
	}
	for i := 1; i < n; i += 2 {
		key := fmt.Sprintf("k%d", i)
		s, ok := c.m.Load(c.hash([]byte(key)))
		if !ok {
			t.Fatalf("%s, which does not expire, is gone", key)
		}
		if node := c.ar.seg(c.slots.load(s).id()).node; node != 0 {
			t.Errorf("%s moved to a segment of node %d, want its writer's node 0", key, node)
		}
	}
	if st.BytesByNode[0] != 0 {
		t.Errorf("%d bytes of segments of no node: the spare writer took memory", st.BytesByNode[0])
	}
}
