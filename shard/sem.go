package shard

import (
	"sync"
	"sync/atomic"
)

// semaphore bounds the requests a shard serves at once. The event loop only
// ever tries to acquire (it must not block); HTTP/2 streams and the std
// engine's goroutines wait for a slot.
type semaphore struct {
	used    atomic.Int64
	limit   int64
	waiters atomic.Int64
	mu      sync.Mutex
	cond    sync.Cond
}

func newSemaphore(limit int) *semaphore {
	s := &semaphore{limit: int64(limit)}
	s.cond.L = &s.mu
	return s
}

// tryAcquire takes a slot if one is free and reports whether it did.
func (s *semaphore) tryAcquire() bool {
	for {
		u := s.used.Load()
		if u >= s.limit {
			return false
		}
		if s.used.CompareAndSwap(u, u+1) {
			return true
		}
	}
}

// acquire takes a slot, waiting for one to be released if need be.
func (s *semaphore) acquire() {
	if s.tryAcquire() {
		return
	}
	s.mu.Lock()
	s.waiters.Add(1)
	for !s.tryAcquire() {
		s.cond.Wait()
	}
	s.waiters.Add(-1)
	s.mu.Unlock()
}

// release gives a slot back and wakes the waiters, if any.
func (s *semaphore) release() {
	s.used.Add(-1)
	if s.waiters.Load() > 0 {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// inUse is the number of slots taken.
func (s *semaphore) inUse() int { return int(s.used.Load()) }
