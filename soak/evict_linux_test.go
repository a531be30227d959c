package soak

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// evictLimit is the --max-memory of the eviction runs; evictOverdraft
// what the store may take past it while evicted segments wait out their
// grace period: four segments of 1 MiB + 4 KiB (see store.Shard.alloc).
const (
	evictLimit     = 16 << 20
	evictOverdraft = 4 * (1<<20 + 4<<10)
)

// testEviction writes eight times --max-memory of new keys into a store
// that evicts (the default) while a reader reads back recent ones: every
// write must be answered 200, every read the exact bytes acknowledged or
// 404 (evicted), the store's memory must stay within the limit and the
// process's resident memory within the limit plus its own base and a
// margin. It returns the replies verified.
func testEviction(t *testing.T, bin, engine, proto string) int64 {
	args := []string{"--engine", engine, "--max-memory", "16MiB", "--presize", "1024"}
	srv := startServer(t, bin, 5*time.Second, args...)
	c := newSoakClient(proto)
	l := newSoakLoad(srv, []*soakClient{c}, 0, 0)
	var mu sync.Mutex
	var recent [][2]string // key, seed: the last writes acknowledged
	var wg sync.WaitGroup
	const writers = 4
	const perWriter = 8 * evictLimit / 4096 / writers // values average 4 KiB
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range perWriter {
				key := fmt.Sprintf("e%d-%d", w, i)
				v := memValue(uint64(w)<<32|uint64(i), 1+rng.IntN(8192))
				r, err := l.do(c, "PUT", "/store/"+key, v, rng)
				if err != nil || r.status != 200 || string(r.body) != bodyStored {
					l.fail.add("store %q (%d bytes) past the limit: %d %q, %v; want 200", key, len(v), r.status, r.body, err)
					continue
				}
				l.verifiedOne()
				mu.Lock()
				recent = append(recent, [2]string{key, fmt.Sprint(len(v))})
				mu.Unlock()
			}
		})
	}
	// The reader runs until every writer is done: a write that failed
	// (counted above) must end the test with its error, not leave the
	// reader waiting for an acknowledgement that never comes.
	writing := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-writing:
				return
			default:
			}
			mu.Lock()
			var e [2]string
			if len(recent) > 0 {
				e = recent[len(recent)-1-rng.IntN(min(len(recent), 64))]
			}
			mu.Unlock()
			if e[0] != "" {
				checkEvictable(l, c, e[0], e[1], rng)
			}
		}
	}()
	wg.Wait()
	close(writing)
	<-done
	st, err := srv.stats(c.Client)
	switch {
	case err != nil:
		t.Errorf("/stats: %v", err)
	case st.Store.ArenaBytes > evictLimit+evictOverdraft || st.Store.Evictions == 0 || st.Keys == 0:
		t.Errorf("/stats after writing 8 × the limit: arena %d bytes (limit %d, overdraft %d), %d evictions, %d keys",
			st.Store.ArenaBytes, evictLimit, evictOverdraft, st.Store.Evictions, st.Keys)
	}
	c.CloseIdleConnections()
	srv.stop()
	l.fail.report(t)
	if peak, bound := srv.peakRSS.Load(), srv.baseRSS+evictLimit+32<<20; peak > bound {
		t.Errorf("peak RSS %.1f MiB, want at most %.1f (base %.1f + limit 16 + 32)", mib(peak), mib(bound), mib(srv.baseRSS))
	}
	t.Logf("%d replies verified; %d keys held, %d evicted, %d overdrafts; peak RSS %.1f MiB over a base of %.1f",
		l.verified.Load(), st.Keys, st.Store.Evictions, st.Store.Overdrafts, mib(srv.peakRSS.Load()), mib(srv.baseRSS))
	return l.verified.Load()
}

// checkEvictable reads key, stored with memValue of size n: it must hold
// exactly that, or be gone.
func checkEvictable(l *soakLoad, c *soakClient, key, n string, rng *rand.Rand) {
	var w, i, size int
	fmt.Sscanf(key, "e%d-%d", &w, &i)
	fmt.Sscan(n, &size)
	want := memValue(uint64(w)<<32|uint64(i), size)
	r, err := l.do(c, "GET", "/get/"+key, nil, rng)
	switch {
	case err != nil:
		l.fail.add("read %q: %v", key, err)
	case r.status == 404 && string(r.body) == bodyNoKey:
		l.verifiedOne()
	case r.status != 200 || !bytes.Equal(r.body, want):
		l.fail.add("read %q: %d, %d bytes; want the %d bytes acknowledged or 404", key, r.status, len(r.body), size)
	default:
		l.verifiedOne()
	}
}
