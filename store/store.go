// Package store provides the cache that all shards share: keys and values
// in memory it maps itself, outside the garbage collector's heap, a bound
// on that memory with eviction or refusal at the bound, and expiry.
//
// An event loop reads through its own Shard, zero-copy: a value slice
// stays valid until the loop's next quiescent-state announcement, and the
// Cache reuses freed memory only after every Shard has announced one (see
// Shard). Other goroutines use the Cache's methods, which copy.
package store

import (
	"errors"
	"sync/atomic"
	"time"
)

// ErrFull is returned by Set when storing the value would take the store
// past Config.MaxBytes with EvictNone.
var ErrFull = errors.New("store: memory limit reached")

// Config configures a Cache. The zero value sets no limit and grows the
// map as entries come.
type Config struct {
	// Presize is the number of entries the index makes room for up
	// front, so that filling the store does not pay for growing it (the
	// old tables are garbage once it has). Values ≤ 0 mean small maps
	// that grow.
	Presize int

	// MaxBytes bounds the store. With Evict it bounds the memory mapped
	// for entries (at least two segments), headers and free space
	// included, plus IndexBytesPerEntry for each entry; with EvictNone,
	// the bytes of keys plus values held, as Bytes counts them. Values
	// ≤ 0 mean unlimited, the default.
	MaxBytes int64

	// Eviction is what a Cache does at MaxBytes. Default Evict.
	Eviction Eviction

	// SegmentSize is the size in bytes of the blocks of memory a Cache
	// maps for entries; an entry (a header of 2 to 12 bytes, the key and
	// the value: EntrySize) must fit in one. Default 1 MiB.
	SegmentSize int

	// Map returns a new segment of size bytes for a Shard on NUMA node
	// node (-1: no preference). The Cache keeps what it returns for the
	// life of the process. nil: anonymous memory with no NUMA policy
	// (on the Go heap where corekv does not map memory itself).
	Map func(size int, node int) ([]byte, error)

	// Now is the clock for expiry, read by the Cache's own methods and
	// by NewShard; a Shard reads the time it is given by Quiescent.
	// Default time.Now.
	Now func() time.Time
}

// budget counts the bytes held and enforces the limit.
type budget struct {
	used atomic.Int64
	max  int64 // 0: unlimited
}

// reserve adds delta to the bytes held (a negative delta frees) and
// reports whether it did: growth that would pass the limit is refused
// and changes nothing.
func (b *budget) reserve(delta int64) bool {
	if delta <= 0 || b.max == 0 {
		b.used.Add(delta)
		return true
	}
	for {
		cur := b.used.Load()
		if cur+delta > b.max {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+delta) {
			return true
		}
	}
}
