package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A stress value encodes its key, its version and a checksum, so that a
// reader can tell a torn value (bytes of two writes), a value of another
// key (memory reused under it) and a stale one.
//
//	key u32 | version u64 | payload (derived from both) | crc32 of all before
func stressValue(key int, version uint64) []byte {
	n := 40 + int(version*7919%360) // sizes vary, so chunks straddle old ones
	b := make([]byte, 12, n+4)
	binary.LittleEndian.PutUint32(b, uint32(key))
	binary.LittleEndian.PutUint64(b[4:], version)
	for i := 12; i < n; i++ {
		b = append(b, byte(uint64(i)*version+uint64(key)))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// checkValue decodes v and returns its version, or an error if it is
// torn or belongs to another key.
func checkValue(key int, v []byte) (uint64, error) {
	if len(v) < 16 {
		return 0, fmt.Errorf("%d bytes", len(v))
	}
	body, sum := v[:len(v)-4], binary.LittleEndian.Uint32(v[len(v)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return 0, fmt.Errorf("torn: checksum mismatch")
	}
	if k := int(binary.LittleEndian.Uint32(v)); k != key {
		return 0, fmt.Errorf("value of key %d", k)
	}
	return binary.LittleEndian.Uint64(v[4:]), nil
}

// TestReclamationStress has one writer shard overwrite, delete and evict
// a small key set in a cache of eight tiny segments, while reader shards
// Get the same keys and hold every slice until their next quiescent
// announcement, checking it only then, and goroutines read through the
// copying Get. Every value read must be whole, the key's own, and no
// older than the version acknowledged before the read began. Run it
// under -race too.
func TestReclamationStress(t *testing.T) {
	const (
		keys    = 16
		readers = 3
		copiers = 2
		seg     = 4096
	)
	writes := 20_000
	if testing.Short() || raceEnabled {
		writes = 5_000
	}
	c := newCache(t, Config{MaxBytes: 8 * seg, SegmentSize: seg})
	var acked [keys]atomic.Uint64 // highest version whose Set returned
	var done atomic.Bool
	var bad atomic.Int64
	var checked, refused atomic.Int64
	report := func(format string, args ...any) {
		if bad.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	var wg sync.WaitGroup
	w := c.NewShard(0)
	wg.Go(func() {
		defer done.Store(true)
		defer w.Close()
		r := rand.New(rand.NewPCG(1, 2))
		for v := uint64(1); v <= uint64(writes); v++ {
			w.Quiescent(time.Now())
			k := r.IntN(keys)
			switch r.IntN(10) {
			case 0:
				w.Delete(fmt.Appendf(nil, "k%d", k))
			case 1, 2: // filler that pushes the hot keys out
				w.Set(fmt.Appendf(nil, "f%d", v), stressValue(-1, v), 0)
			default:
				err := w.Set(fmt.Appendf(nil, "k%d", k), stressValue(k, v), 0)
				switch {
				case err == nil:
					acked[k].Store(max(acked[k].Load(), v))
				case errors.Is(err, ErrFull):
					refused.Add(1) // a reader held the grace period too long
				default:
					report("Set: %v", err)
				}
			}
			if v%500 == 0 {
				w.Maintain()
			}
		}
	})
	type held struct {
		key int
		low uint64
		v   []byte
	}
	for i := range readers {
		sh := c.NewShard(i % 2)
		wg.Go(func() {
			defer sh.Close()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			batch := make([]held, 0, 32)
			for n := 0; !done.Load(); n++ {
				sh.Quiescent(time.Now())
				batch = batch[:0]
				for range cap(batch) {
					k := r.IntN(keys)
					low := acked[k].Load()
					if v, _, ok := sh.Get(fmt.Appendf(nil, "k%d", k)); ok {
						batch = append(batch, held{k, low, v})
					}
				}
				for _, h := range batch { // only now, as a writev would
					ver, err := checkValue(h.key, h.v)
					switch {
					case err != nil:
						report("reader %d: key %d: %v", i, h.key, err)
					case ver < h.low:
						report("reader %d: key %d: version %d, but %d was acknowledged before the Get", i, h.key, ver, h.low)
					}
					checked.Add(1)
				}
				if n%16 == 0 { // block now and then, as an idle loop does
					sh.Offline()
					time.Sleep(10 * time.Microsecond)
					sh.Online()
				}
			}
		})
	}
	for i := range copiers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 9))
			var buf []byte
			for !done.Load() {
				k := r.IntN(keys)
				low := acked[k].Load()
				var ok bool
				if buf, _, ok = c.Get(buf[:0], fmt.Appendf(nil, "k%d", k)); ok {
					ver, err := checkValue(k, buf)
					switch {
					case err != nil:
						report("copier %d: key %d: %v", i, k, err)
					case ver < low:
						report("copier %d: key %d: version %d < acknowledged %d", i, k, ver, low)
					}
					checked.Add(1)
				}
			}
		})
	}
	wg.Wait()
	st := c.Stats()
	t.Logf("%d values checked; %d evictions, %d overdrafts, %d writes refused, %d segments mapped, arena %d bytes",
		checked.Load(), st.Evictions, st.Overdrafts, refused.Load(), st.Segments, st.ArenaBytes)
	if st.Segments > 8+4+8 {
		t.Errorf("%d segments mapped for a limit of 8 and an overdraft of 4", st.Segments)
	}
	if checked.Load() == 0 || st.Evictions == 0 {
		t.Errorf("checked %d values with %d evictions: the test exercised nothing", checked.Load(), st.Evictions)
	}
}

// TestConcurrentCopyingGet races the Cache's own Set, Get and Delete from
// many goroutines over a few keys, with sizes that change, at a limit
// that evicts: every value read must be whole and the key's own.
func TestConcurrentCopyingGet(t *testing.T) {
	const keys = 8
	c := newCache(t, Config{MaxBytes: 16 * 4096, SegmentSize: 4096})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			var buf []byte
			for i := range 5000 {
				k := r.IntN(keys)
				key := fmt.Appendf(nil, "k%d", k)
				switch r.IntN(4) {
				case 0:
					c.Set(key, stressValue(k, uint64(g*10000+i+1)), 0)
				case 1:
					c.Delete(key)
				default:
					var ok bool
					if buf, _, ok = c.Get(buf[:0], key); ok {
						if _, err := checkValue(k, buf); err != nil && bad.Add(1) <= 10 {
							t.Errorf("Get(%q): %v", key, err)
						}
					}
				}
				if i%1000 == 0 {
					c.Maintain()
				}
			}
		})
	}
	wg.Wait()
	checkCacheCount(t, c, keys)
}

// checkCacheCount compares Len and Bytes with the contents of k0..k<n-1>.
func checkCacheCount(t *testing.T, c *Cache, n int) {
	t.Helper()
	var wantBytes int64
	wantLen := 0
	for i := range n {
		key := fmt.Appendf(nil, "k%d", i)
		if v, _, ok := c.Get(nil, key); ok {
			wantLen++
			wantBytes += int64(len(key) + len(v))
		}
	}
	if got := c.Bytes(); got != wantBytes {
		t.Errorf("Bytes() = %d, contents hold %d", got, wantBytes)
	}
	if got := c.Len(); got != wantLen {
		t.Errorf("Len() = %d, contents hold %d keys", got, wantLen)
	}
}
