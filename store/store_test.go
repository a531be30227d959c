package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"
)

// impls are the implementations every test runs against.
var impls = []struct {
	name string
	new  func(Config) Store
}{
	{"lockfree", NewLockFree},
	{"locked", NewLocked},
}

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

// storeCases is the table both TestStore and TestCache run.
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

func TestStore(t *testing.T) {
	for _, impl := range impls {
		for _, tc := range storeCases {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) {
				tc.cfg.Presize = 16
				s := impl.new(tc.cfg)
				for i, o := range tc.in {
					apply(t, s, i, o)
				}
				if got := s.Len(); got != tc.wantLen {
					t.Errorf("Len() = %d, want %d", got, tc.wantLen)
				}
				if got := s.Bytes(); got != tc.wantBytes {
					t.Errorf("Bytes() = %d, want %d", got, tc.wantBytes)
				}
			})
		}
	}
}

// apply runs step i and checks its result.
func apply(t *testing.T, s Store, i int, o op) {
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
	default:
		t.Fatalf("step %d: unknown op %q", i, o.do)
	}
}

// TestOwnership checks that Get returns the very slice given to Set (no
// copy) and that Set copied the key, so the caller may reuse its buffer.
func TestOwnership(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.new(Config{Presize: 16})
			key := []byte("key")
			value := []byte("value")
			if err := s.Set(key, value); err != nil {
				t.Fatal(err)
			}
			copy(key, "xxx") // reuse the key buffer
			got, ok := s.Get([]byte("key"))
			if !ok || unsafe.SliceData(got) != unsafe.SliceData(value) || len(got) != len(value) {
				t.Fatalf("Get(%q) = %q at %p, %v; want the stored slice at %p", "key", got, got, ok, value)
			}
			if _, ok := s.Get(key); ok {
				t.Fatalf("Get(%q) found a value: Set kept the caller's key buffer", key)
			}
		})
	}
}

// TestGetAllocs guards the GET hot path: no allocation, hit or miss.
func TestGetAllocs(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.new(Config{Presize: 16})
			if err := s.Set([]byte("hit"), []byte("value")); err != nil {
				t.Fatal(err)
			}
			hit, missing := []byte("hit"), []byte("missing")
			for _, tc := range []struct {
				name string
				key  []byte
				ok   bool
			}{{"hit", hit, true}, {"miss", missing, false}} {
				var ok bool
				n := testing.AllocsPerRun(1000, func() { _, ok = s.Get(tc.key) })
				if ok != tc.ok || n != 0 {
					t.Errorf("Get(%q) found %v with %v allocations per call, want found %v with 0", tc.key, ok, n, tc.ok)
				}
			}
		})
	}
}

// TestStripeSize checks the locked store's padding.
func TestStripeSize(t *testing.T) {
	var st stripe
	if n := unsafe.Sizeof(st); n != 128 {
		t.Fatalf("stripe is %d bytes, want 128", n)
	}
}

// TestConcurrentAccounting hammers a small key space from several
// goroutines (run it with -race) and checks that the byte count matches
// the contents exactly afterwards and never passed the limit meanwhile.
func TestConcurrentAccounting(t *testing.T) {
	const (
		workers = 8
		ops     = 20_000
		keys    = 32
		limit   = 1000
	)
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.new(Config{Presize: keys, MaxBytes: limit})
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
						high = max(high, s.Bytes())
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
							s.Delete(key)
						} else if err := s.Set(key, values[r.IntN(len(values))]); err != nil && !errors.Is(err, ErrFull) {
							t.Errorf("Set(%q): %v", key, err)
						}
					}
				})
			}
			wg.Wait()
			close(stop)
			if high := <-watched; high > limit {
				t.Errorf("Bytes() reached %d during the run, limit %d", high, limit)
			}
			checkCount(t, s, keys)
		})
	}
}

// checkCount compares Len and Bytes with the contents of keys k0..k<n-1>.
func checkCount(t *testing.T, s Store, n int) {
	t.Helper()
	var wantBytes int64
	wantLen := 0
	for i := range n {
		key := fmt.Appendf(nil, "k%d", i)
		if v, ok := s.Get(key); ok {
			wantLen++
			wantBytes += int64(len(key) + len(v))
		}
	}
	if got := s.Bytes(); got != wantBytes {
		t.Errorf("Bytes() = %d, contents hold %d", got, wantBytes)
	}
	if got := s.Len(); got != wantLen {
		t.Errorf("Len() = %d, contents hold %d keys", got, wantLen)
	}
}

// TestConcurrentSameKey races Sets of one key with values of different
// sizes: the count must end at that key's final entry.
func TestConcurrentSameKey(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.new(Config{Presize: 1})
			var wg sync.WaitGroup
			for w := range 8 {
				value := make([]byte, w*10)
				wg.Go(func() {
					for range 5_000 {
						s.Set([]byte("k0"), value)
					}
				})
			}
			wg.Wait()
			checkCount(t, s, 1)
		})
	}
}
