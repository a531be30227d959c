package store

import (
	"hash/maphash"
	"sync"
)

// stripes is the number of independently locked maps; a power of two.
const stripes = 64

// stripe is one lock and the map it guards, padded to 128 bytes so that
// neighbouring stripes' locks never share a cache line (nor the pair of
// lines that adjacent-line prefetchers fetch together).
type stripe struct {
	mu sync.RWMutex
	m  map[string][]byte
	_  [128 - 32]byte
}

// locked is a lock-striped map: the Go counterpart of Rust's dashmap.
type locked struct {
	seed    maphash.Seed
	stripes [stripes]stripe
	budget
}

// NewLocked returns a Store made of 64 Go maps, each behind its own
// sync.RWMutex, the key's stripe chosen by a per-store seeded hash. It is
// the conventional design the lock-free store is benchmarked against.
func NewLocked(cfg Config) Store {
	cfg = cfg.withDefaults()
	s := &locked{seed: maphash.MakeSeed(), budget: budget{max: cfg.MaxBytes}}
	for i := range s.stripes {
		s.stripes[i].m = make(map[string][]byte, cfg.Presize/stripes+1)
	}
	return s
}

func (s *locked) stripe(key []byte) *stripe {
	return &s.stripes[maphash.Bytes(s.seed, key)&(stripes-1)]
}

// Get relies on the compiler not allocating for m[string(key)].
func (s *locked) Get(key []byte) ([]byte, bool) {
	st := s.stripe(key)
	st.mu.RLock()
	v, ok := st.m[string(key)]
	st.mu.RUnlock()
	return v, ok
}

func (s *locked) Set(key, value []byte) error {
	st := s.stripe(key)
	st.mu.Lock()
	defer st.mu.Unlock()
	delta := entryBytes(key, value)
	if old, ok := st.m[string(key)]; ok {
		delta -= entryBytes(key, old)
	}
	if !s.reserve(delta) {
		return ErrFull
	}
	st.m[string(key)] = value
	return nil
}

func (s *locked) Delete(key []byte) bool {
	st := s.stripe(key)
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.m[string(key)]
	if ok {
		delete(st.m, string(key))
		s.reserve(-entryBytes(key, old))
	}
	return ok
}

func (s *locked) Len() int {
	n := 0
	for i := range s.stripes {
		st := &s.stripes[i]
		st.mu.RLock()
		n += len(st.m)
		st.mu.RUnlock()
	}
	return n
}
