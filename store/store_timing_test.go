package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rwMap is the baseline: one sync.RWMutex over one Go map, no limit.
type rwMap struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func newRWMap(cfg Config) Store {
	return &rwMap{m: make(map[string][]byte, cfg.withDefaults().Presize)}
}

func (s *rwMap) Get(key []byte) ([]byte, bool) {
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

func (s *rwMap) Delete(key []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[string(key)]
	delete(s.m, string(key))
	return ok
}

func (s *rwMap) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

func (s *rwMap) Bytes() int64 { return 0 }

// benchImpls pairs the two stores with the baseline.
var benchImpls = []struct {
	name string
	new  func(Config) Store
}{
	{"lockfree", NewLockFree},
	{"locked", NewLocked},
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
func loaded(b *testing.B, newStore func(Config) Store) (Store, [][]byte) {
	b.Helper()
	s := newStore(Config{Presize: benchKeys})
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
				for pb.Next() {
					i++
					key := keys[i%len(keys)]
					if i%100 < getPercent {
						v, _ := s.Get(key)
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
					if _, ok := s.Get(miss); ok {
						n++
					}
				}
				sink.Add(int64(n))
			})
		})
	}
}

// cacheStore adapts a Cache to the benchmarks' Store: each RunParallel
// goroutine uses its own Shard, as each event loop does, announcing
// quiescence every 64 operations (a loop batch).
type cacheStore struct{ c *Cache }

func newCacheStore(cfg Config) Store {
	c, err := New(Config{Presize: cfg.Presize})
	if err != nil {
		panic(err)
	}
	return cacheStore{c}
}

func (s cacheStore) Get(key []byte) ([]byte, bool) {
	v, _, ok := s.c.Get(nil, key)
	return v, ok
}
func (s cacheStore) Set(key, value []byte) error { return s.c.Set(key, value, 0) }
func (s cacheStore) Delete(key []byte) bool      { return s.c.Delete(key) }
func (s cacheStore) Len() int                    { return s.c.Len() }
func (s cacheStore) Bytes() int64                { return s.c.Bytes() }

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
