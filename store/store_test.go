package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// op is one step of a table case: a Set, Get or Delete and its result.
type op struct {
	do      string // "set", "get" or "delete"
	key     string
	value   []byte // set: value to store; get: value wanted
	ok      bool   // get: found; delete: was present
	wantErr error  // set
}

func set(k, v string) op             { return op{do: "set", key: k, value: []byte(v)} }
func setFull(k, v string) op         { return op{do: "set", key: k, value: []byte(v), wantErr: ErrFull} }
func get(k, v string) op             { return op{do: "get", key: k, value: []byte(v), ok: true} }
func miss(k string) op               { return op{do: "get", key: k} }
func del(k string, present bool) op  { return op{do: "delete", key: k, ok: present} }
func setBytes(k string, v []byte) op { return op{do: "set", key: k, value: v} }
func getBytes(k string, v []byte) op { return op{do: "get", key: k, value: v, ok: true} }

// storeCases is the table TestCache runs through both APIs, with
// EvictNone so that the limit cases refuse.
var storeCases = []struct {
	name      string
	cfg       Config
	in        []op
	wantLen   int
	wantBytes int64
}{
	{name: "empty store misses", in: []op{miss("a"), del("a", false)}},
	{name: "set then get", in: []op{set("a", "1"), get("a", "1"), miss("b")}, wantLen: 1, wantBytes: 2},
	{name: "binary value and key", in: []op{setBytes("\x00k\xff", binaryValue), getBytes("\x00k\xff", binaryValue), miss("\x00k")}, wantLen: 1, wantBytes: 10},
	{name: "empty value is a value", in: []op{set("k", ""), get("k", "")}, wantLen: 1, wantBytes: 1},
	{name: "empty key", in: []op{set("", "v"), get("", "v")}, wantLen: 1, wantBytes: 1},
	{name: "overwrite", in: []op{set("a", "xx"), set("a", "yyyy"), get("a", "yyyy")}, wantLen: 1, wantBytes: 5},
	{name: "overwrite smaller", in: []op{set("a", "yyyy"), set("a", "x"), get("a", "x")}, wantLen: 1, wantBytes: 2},
	{name: "delete", in: []op{set("a", "1"), set("b", "22"), del("a", true), miss("a"), del("a", false), get("b", "22")}, wantLen: 1, wantBytes: 3},
	{name: "set after delete", in: []op{set("a", "1"), del("a", true), set("a", "22"), get("a", "22")}, wantLen: 1, wantBytes: 3},
	{name: "limit exact fit", cfg: Config{MaxBytes: 4}, in: []op{set("ab", "cd"), get("ab", "cd")}, wantLen: 1, wantBytes: 4},
	{name: "limit exceeded stores nothing", cfg: Config{MaxBytes: 4}, in: []op{setFull("ab", "cde"), miss("ab")}},
	{name: "entry larger than limit", cfg: Config{MaxBytes: 4}, in: []op{set("a", "b"), setFull("k", "0123456789"), miss("k"), get("a", "b")}, wantLen: 1, wantBytes: 2},
	{name: "ErrFull keeps old value", cfg: Config{MaxBytes: 6}, in: []op{set("ab", "cd"), setFull("ab", "cdefg"), get("ab", "cd")}, wantLen: 1, wantBytes: 4},
	{name: "grow within limit", cfg: Config{MaxBytes: 6}, in: []op{set("ab", "cd"), set("ab", "cdef"), get("ab", "cdef")}, wantLen: 1, wantBytes: 6},
	{name: "replace no larger when full", cfg: Config{MaxBytes: 4}, in: []op{set("ab", "cd"), setFull("x", "y"), set("ab", "ef"), set("ab", "e"), get("ab", "e")}, wantLen: 1, wantBytes: 3},
	{name: "delete frees bytes", cfg: Config{MaxBytes: 4}, in: []op{set("ab", "cd"), setFull("xy", "zz"), del("ab", true), set("xy", "zz"), get("xy", "zz")}, wantLen: 1, wantBytes: 4},
	{name: "negative limit is unlimited", cfg: Config{MaxBytes: -1}, in: []op{set("ab", "cdefgh")}, wantLen: 1, wantBytes: 8},
}

var binaryValue = []byte{0, 1, '\r', '\n', 0xff, 0xfe, 0}

// TestConcurrentAccounting hammers a small key space from several
// goroutines (run it with -race) and checks that the byte count matches
// the contents exactly afterwards and never passed the EvictNone limit
// meanwhile.
func TestConcurrentAccounting(t *testing.T) {
	const (
		workers = 8
		ops     = 20_000
		keys    = 32
		limit   = 1000
	)
	c := newCache(t, Config{MaxBytes: limit, Eviction: EvictNone, SegmentSize: 4096})
	values := make([][]byte, 64)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte(i)}, i)
	}
	stop := make(chan struct{})
	watched := make(chan int64)
	go func() { // watch the limit while the workers run
		high := int64(0)
		for {
			select {
			case <-stop:
				watched <- high
				return
			default:
				high = max(high, c.budget.used.Load())
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				key := fmt.Appendf(nil, "k%d", r.IntN(keys))
				if r.IntN(4) == 0 {
					c.Delete(key)
				} else if err := c.Set(key, values[r.IntN(len(values))], 0); err != nil && !errors.Is(err, ErrFull) {
					t.Errorf("Set(%q): %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if high := <-watched; high > limit {
		t.Errorf("the byte count reached %d during the run, limit %d", high, limit)
	}
	checkCacheCount(t, c, keys)
	if used := c.budget.used.Load(); used != c.Bytes() {
		t.Errorf("the EvictNone budget counts %d bytes, Bytes() %d", used, c.Bytes())
	}
}

// TestConcurrentSameKey races Sets of one key with values of different
// sizes: the count must end at that key's final entry.
func TestConcurrentSameKey(t *testing.T) {
	c := newCache(t, Config{SegmentSize: 4096})
	var wg sync.WaitGroup
	for w := range 8 {
		value := make([]byte, w*10)
		wg.Go(func() {
			for range 5_000 {
				c.Set([]byte("k0"), value, 0)
			}
		})
	}
	wg.Wait()
	checkCacheCount(t, c, 1)
}
