package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/corekv/corekv/bench/internal/kvproto"
	"github.com/corekv/corekv/bench/internal/zipf"
)

// fakeCache serves memcached's text protocol from a map that holds at
// most capacity keys (it refuses SETs of new keys beyond) and counts the
// GETs it is sent.
type fakeCache struct {
	capacity int
	gets     chan int // the count, sent when the connection ends
}

func (f *fakeCache) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f.gets = make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f.gets <- f.serve(c)
	}()
	return ln.Addr().String()
}

func (f *fakeCache) serve(c net.Conn) int {
	items := map[string][]byte{}
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	gets := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return gets
		}
		fl := strings.Fields(line)
		switch {
		case len(fl) == 2 && fl[0] == "get":
			gets++
			if v, ok := items[fl[1]]; ok {
				fmt.Fprintf(w, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", fl[1], len(v), v)
			} else {
				w.WriteString("END\r\n")
			}
		case len(fl) == 5 && fl[0] == "set":
			n, _ := strconv.Atoi(fl[4])
			v := make([]byte, n+2)
			if _, err := io.ReadFull(r, v); err != nil {
				return gets
			}
			if _, ok := items[fl[1]]; !ok && len(items) >= f.capacity {
				w.WriteString("SERVER_ERROR out of memory storing object\r\n")
			} else {
				items[fl[1]] = v[:n]
				w.WriteString("STORED\r\n")
			}
		}
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}

// TestReplayCounts replays a stream against a fake cache whose outcome
// is known in advance: with room for every key, a request misses exactly
// when it is its key's first; with room for none, every request misses
// and every SET is refused.
func TestReplayCounts(t *testing.T) {
	const keys, requests, warmup = 2000, 20_000, 5000
	tests := []struct {
		name     string
		capacity int
		batch    int
	}{
		{"room for all, batches of 100", keys, 100},
		{"room for all, one request at a time", keys, 1},
		{"room for none", 0, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The expected outcome, from the same stream.
			z, _ := zipf.New(rand.New(rand.NewPCG(1, 2)), 0.99, keys)
			seen := map[int]bool{}
			wantHits, wantMisses := 0, 0
			for i := range requests {
				k := z.Next()
				hit := seen[k] && tc.capacity > 0
				seen[k] = true
				if i < warmup {
					continue
				}
				if hit {
					wantHits++
				} else {
					wantMisses++
				}
			}

			fake := &fakeCache{capacity: tc.capacity}
			conn, err := kvproto.Dial(context.Background(), fake.start(t), kvproto.Memcached{}, kvproto.Config{})
			if err != nil {
				t.Fatal(err)
			}
			h := &hitratioCmd{Requests: requests, Warmup: warmup, Batch: tc.batch}
			z, _ = zipf.New(rand.New(rand.NewPCG(1, 2)), 0.99, keys)
			var r hrResult
			if err := h.replay(conn, newDataset(spreadSize(100, 1000)), z, &r); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			wantRefused := 0
			if tc.capacity == 0 {
				wantRefused = wantMisses
			}
			if r.counted != requests-warmup || r.hits != wantHits || r.sets != wantMisses || r.notStored != wantRefused {
				t.Errorf("counted %d, hits %d, SETs %d, refused %d; want %d, %d, %d, %d",
					r.counted, r.hits, r.sets, r.notStored, requests-warmup, wantHits, wantMisses, wantRefused)
			}
			if gets := <-fake.gets; gets != requests {
				t.Errorf("server got %d GETs, want %d", gets, requests)
			}
		})
	}
}
