package store

import (
	"math"
	"sync"
	"sync/atomic"
)

// qsbr is quiescent-state-based reclamation. Each shard that reads
// values zero-copy has a slot where it announces the global epoch it has
// seen at the top of each loop iteration, when it holds no value slices.
// Memory retired at epoch e may be reused once every online slot has
// announced an epoch ≥ e. A shard about to block announces itself offline
// (it holds nothing), so an idle shard never stalls reclamation.
type qsbr struct {
	epoch atomic.Uint64
	mu    sync.Mutex
	slots atomic.Pointer[[]*qslot]
}

// offline is what an offline slot announces: past every epoch.
const offline = math.MaxUint64

// qslot is one shard's announcement, alone on its cache lines so that its
// store each loop iteration invalidates nothing another shard writes.
type qslot struct {
	_    [64]byte
	seen atomic.Uint64
	// spare is set for the slots of the Cache's own writers (goroutines,
	// see Cache.spareShard), not event loops: one of those that holds
	// reclamation back is only slow, never stuck.
	spare bool
	_     [55]byte
}

func (q *qsbr) init() { q.epoch.Store(1) }

// register adds an online slot, for a spare writer or an event loop.
func (q *qsbr) register(spare bool) *qslot {
	s := &qslot{spare: spare}
	s.seen.Store(q.epoch.Load())
	q.mu.Lock()
	defer q.mu.Unlock()
	var list []*qslot
	if p := q.slots.Load(); p != nil {
		list = append(list, *p...)
	}
	list = append(list, s)
	q.slots.Store(&list)
	return s
}

// unregister removes a slot for good.
func (q *qsbr) unregister(s *qslot) {
	s.seen.Store(offline)
	q.mu.Lock()
	defer q.mu.Unlock()
	var list []*qslot
	for _, x := range *q.slots.Load() {
		if x != s {
			list = append(list, x)
		}
	}
	q.slots.Store(&list)
}

// retire returns the tag of memory unlinked now: it may be reused once
// safe(tag).
func (q *qsbr) retire() uint64 { return q.epoch.Add(1) }

// min returns the lowest epoch any slot announced (offline for none).
func (q *qsbr) min() uint64 {
	m := uint64(offline)
	if p := q.slots.Load(); p != nil {
		for _, s := range *p {
			m = min(m, s.seen.Load())
		}
	}
	return m
}

// minLoops is min over the slots of event loops alone.
func (q *qsbr) minLoops() uint64 {
	m := uint64(offline)
	if p := q.slots.Load(); p != nil {
		for _, s := range *p {
			if !s.spare {
				m = min(m, s.seen.Load())
			}
		}
	}
	return m
}

// quiescent announces that s holds no value slices.
func (q *qsbr) quiescent(s *qslot) { s.seen.Store(q.epoch.Load()) }
