package store

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/puzpuzpuz/xsync/v3"
)

// mapStore is what the benchmarks drive: the Cache through its copying
// methods, and two baselines holding values on the Go heap.
type mapStore interface {
	// Get returns the value of key; a copying store appends it to dst.
	Get(dst, key []byte) ([]byte, bool)
	Set(key, value []byte) error
}

// oldMap is the store corekv had before the Cache: an xsync.MapOf from
// string keys to values on the Go heap. Set copies the value into a new
// slice, as the event loop did before it handed the slice over.
type oldMap struct{ m *xsync.MapOf[string, []byte] }

func newOldMap(presize int) mapStore {
	return oldMap{xsync.NewMapOf[string, []byte](xsync.WithPresize(presize))}
}

func (s oldMap) Get(_, key []byte) ([]byte, bool) {
	return s.m.Load(unsafe.String(unsafe.SliceData(key), len(key)))
}

func (s oldMap) Set(key, value []byte) error {
	s.m.Store(string(key), bytes.Clone(value))
	return nil
}

// rwMap is the simplest baseline: one sync.RWMutex over one Go map.
type rwMap struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func newRWMap(presize int) mapStore {
	return &rwMap{m: make(map[string][]byte, presize)}
}

func (s *rwMap) Get(_, key []byte) ([]byte, bool) {
	s.mu.RLock()
	v, ok := s.m[string(key)]
	s.mu.RUnlock()
	return v, ok
}

func (s *rwMap) Set(key, value []byte) error {
	s.mu.Lock()
	s.m[string(key)] = value
	s.mu.Unlock()
	return nil
}

// benchImpls pairs the two stores with the baseline.
var benchImpls = []struct {
	name string
	new  func(presize int) mapStore
}{
	{"old-lockfree", newOldMap},
	{"rwmutex-map", newRWMap},
	{"cache-copying", newCacheStore},
}

// sink keeps the benchmarks' results alive.
var sink atomic.Int64

const (
	benchKeys  = 10_000 // as in the load mix
	benchValue = 100    // bytes
)

// loaded returns a store holding benchKeys keys, and the keys.
func loaded(b *testing.B, newStore func(int) mapStore) (mapStore, [][]byte) {
	b.Helper()
	s := newStore(benchKeys)
	keys := make([][]byte, benchKeys)
	value := make([]byte, benchValue)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
		if err := s.Set(keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys
}

// benchMix runs RunParallel with getPercent% Gets and the rest Sets over
// the preloaded keys; each goroutine starts at a different key.
func benchMix(b *testing.B, getPercent int) {
	for _, impl := range benchImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			s, keys := loaded(b, impl.new)
			value := make([]byte, benchValue)
			var start atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(7919))
				n := 0
				buf := make([]byte, 0, benchValue)
				for pb.Next() {
					i++
					key := keys[i%len(keys)]
					if i%100 < getPercent {
						v, _ := s.Get(buf[:0], key)
						n += len(v)
					} else if err := s.Set(key, value); err != nil {
						b.Error(err)
					}
				}
				sink.Add(int64(n))
			})
		})
	}
}

func BenchmarkGet(b *testing.B)   { benchMix(b, 100) }
func BenchmarkSet(b *testing.B)   { benchMix(b, 0) }
func BenchmarkMixed(b *testing.B) { benchMix(b, 80) }

// BenchmarkGetMiss looks up keys that are absent.
func BenchmarkGetMiss(b *testing.B) {
	for _, impl := range benchImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			s, _ := loaded(b, impl.new)
			miss := []byte("absent-key")
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n := 0
				for pb.Next() {
					if _, ok := s.Get(nil, miss); ok {
						n++
					}
				}
				sink.Add(int64(n))
			})
		})
	}
}

// cacheStore is the Cache through its copying methods, as goroutines use
// it; Get copies into the caller's buffer.
type cacheStore struct{ c *Cache }

func newCacheStore(presize int) mapStore {
	c, err := New(Config{Presize: presize})
	if err != nil {
		panic(err)
	}
	return cacheStore{c}
}

func (s cacheStore) Get(dst, key []byte) ([]byte, bool) {
	v, _, ok := s.c.Get(dst, key)
	return v, ok
}
func (s cacheStore) Set(key, value []byte) error { return s.c.Set(key, value, 0) }

// benchShardMix is benchMix for the Cache through Shards: the loop path
// (zero-copy Get, Set copying from a reused buffer).
func benchShardMix(b *testing.B, getPercent int) {
	b.Run("impl=cache-shard", func(b *testing.B) {
		s, keys := loaded(b, newCacheStore)
		c := s.(cacheStore).c
		value := make([]byte, benchValue)
		var start atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			sh := c.NewShard(-1)
			defer sh.Close()
			i := int(start.Add(7919))
			n := 0
			now := time.Now()
			for pb.Next() {
				i++
				if i%64 == 0 {
					sh.Quiescent(now)
				}
				key := keys[i%len(keys)]
				if i%100 < getPercent {
					v, _, _ := sh.Get(key)
					n += len(v)
				} else if err := sh.Set(key, value, 0); err != nil {
					b.Error(err)
				}
			}
			sink.Add(int64(n))
		})
	})
}

func BenchmarkShardGet(b *testing.B)   { benchShardMix(b, 100) }
func BenchmarkShardSet(b *testing.B)   { benchShardMix(b, 0) }
func BenchmarkShardMixed(b *testing.B) { benchShardMix(b, 80) }
