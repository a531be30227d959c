// Package store provides the key-value map that all shards share, with an
// optional bound on the bytes it holds.
//
// Values are immutable once stored, so that a GET can write the stored
// bytes straight to a socket with no per-request copy: Set takes ownership
// of the value slice, and Get returns that same slice. Neither the caller
// of Set nor the caller of Get may modify it.
package store

import (
	"errors"
	"sync/atomic"
	"time"
	"unsafe"
)

// DefaultPresize is the number of entries a store makes room for when
// Config.Presize is 0.
const DefaultPresize = 1_000_000

// ErrFull is returned by Set when storing the value would take the store
// past Config.MaxBytes.
var ErrFull = errors.New("store: memory limit reached")

// Store is a concurrent map from byte-string keys to immutable values.
// It is an interface because two implementations exist: NewLockFree, the
// server's store, and NewLocked, a lock-striped map kept as the
// conventional alternative that benchmarks compare against. All methods
// are safe for concurrent use.
type Store interface {
	// Get returns the value stored under key and whether there is one.
	// The result is the slice given to Set: the caller must not modify
	// it. Get does not allocate and does not keep key.
	Get(key []byte) ([]byte, bool)

	// Set stores value under key, replacing any previous value. It copies
	// key but takes ownership of value: the caller must not modify value
	// afterwards. An empty value is a value. If the key and value would
	// take Bytes past Config.MaxBytes, Set returns ErrFull and changes
	// nothing; replacing a value with one no larger always succeeds.
	Set(key, value []byte) error

	// Delete removes key and reports whether it was present. It frees the
	// bytes of the key and its value from the limit.
	Delete(key []byte) bool

	// Len returns the number of keys.
	Len() int

	// Bytes returns the sum of len(key)+len(value) over all keys, the
	// quantity that Config.MaxBytes bounds. While Sets and Deletes run it
	// may briefly count a deleted entry still; it never counts less than
	// is stored.
	Bytes() int64
}

// Config configures a store. The zero value makes room for
// DefaultPresize entries and sets no limit.
type Config struct {
	// Presize is the number of entries to allocate room for up front, so
	// that filling the store does not pay for growing it. Values ≤ 0
	// mean DefaultPresize (1,000,000).
	Presize int

	// MaxBytes bounds the bytes of keys plus values held, as Bytes counts
	// them (the map's own overhead per entry is not counted). Values ≤ 0
	// mean unlimited, the default. For a Cache with Evict it bounds the
	// memory mapped for entries instead (at least two segments), headers
	// and free space included.
	MaxBytes int64

	// The fields below configure a Cache (New) only.

	// Eviction is what a Cache does at MaxBytes. Default Evict.
	Eviction Eviction

	// SegmentSize is the size in bytes of the blocks of memory a Cache
	// maps for entries; an entry (a 16-byte header, the key and the
	// value, rounded up to 4 bytes) must fit in one. Default 1 MiB.
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

// withDefaults returns c with its unset fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.Presize <= 0 {
		c.Presize = DefaultPresize
	}
	if c.MaxBytes < 0 {
		c.MaxBytes = 0
	}
	return c
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

// Bytes implements Store.Bytes for both implementations.
func (b *budget) Bytes() int64 { return b.used.Load() }

// entryBytes is what one entry counts against the limit.
func entryBytes[K string | []byte](key K, value []byte) int64 {
	return int64(len(key) + len(value))
}

// view returns b as a string without copying, for lookups that do not
// keep the key. The string must not outlive b's contents.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
