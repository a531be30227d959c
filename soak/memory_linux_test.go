package soak

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memLimit is the --max-memory of the max-memory runs.
const memLimit = 1 << 20

// memStore is what a max-memory run has had acknowledged: key → value.
type memStore struct {
	l    *soakLoad
	c    *soakClient
	mu   sync.Mutex
	kv   map[string][]byte
	full atomic.Int64 // 507 replies
}

// testMaxMemory floods a 1 MiB store that refuses at its limit
// (--eviction=none) until it answers 507, then checks the
// limit's edges exactly while nothing else runs. It returns the replies
// verified.
func testMaxMemory(t *testing.T, bin, engine, proto string) int64 {
	srv := startServer(t, bin, 5*time.Second, "--engine", engine, "--eviction", "none",
		"--max-memory", "1MiB", "--presize", "1024")
	m := &memStore{c: newSoakClient(proto), kv: map[string][]byte{}}
	m.l = newSoakLoad(srv, []*soakClient{m.c}, 0, 0)
	m.flood()
	if m.full.Load() == 0 {
		m.l.fail.report(t)
		t.Fatalf("no 507 after storing %d bytes with --max-memory 1MiB", m.sum())
	}
	m.edges(t)
	m.readBack()
	m.checkStats(t)
	m.c.CloseIdleConnections()
	srv.stop()
	m.l.fail.report(t)
	t.Logf("%d replies verified, %d of them 507; %d keys, %d bytes stored of %d", m.l.verified.Load(), m.full.Load(), len(m.kv), m.sum(), memLimit)
	return m.l.verified.Load()
}

// memValue is a value of n random bytes, a function of seed.
func memValue(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// flood has four writers store new keys of up to 32 KiB until each got
// eight 507s in a row, while a reader checks stored keys and a poller
// checks that /stats never counts more than the limit.
func (m *memStore) flood() {
	var writers, others sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		writers.Go(func() { m.floodWriter(w) })
	}
	others.Go(func() {
		rng := rand.New(rand.NewPCG(9, 9))
		for polls := 0; ; polls++ {
			select {
			case <-stop:
				if polls == 0 {
					m.l.fail.add("/stats never polled during the flood")
				}
				return
			default:
			}
			m.checkBytes()
			m.readOne(rng)
		}
	})
	writers.Wait()
	close(stop)
	others.Wait()
}

func (m *memStore) floodWriter(w int) {
	rng := rand.New(rand.NewPCG(uint64(w), 5))
	for i, inARow := 0, 0; inARow < 8 && i < 10000; i++ {
		key := fmt.Sprintf("flood%d.%d", w, i)
		if m.set(key, memValue(uint64(w)<<32|uint64(i), 1+rng.IntN(32<<10)), rng) {
			inARow = 0
		} else {
			inARow++
		}
	}
}

// set stores key; it reports whether the store took it (200) rather than
// refusing it (507). Any other reply is a failure.
func (m *memStore) set(key string, v []byte, rng *rand.Rand) bool {
	r, err := m.l.do(m.c, "PUT", "/store/"+escapeSegment([]byte(key)), v, rng)
	switch {
	case err != nil:
		m.l.fail.add("store %q: %v", key, err)
	case r.status == 200 && string(r.body) == bodyStored:
		m.mu.Lock()
		m.kv[key] = v
		m.mu.Unlock()
		m.l.verifiedOne()
		return true
	case r.status == 507 && string(r.body) == bodyFull && strings.HasPrefix(r.ctype, "text/plain"):
		m.full.Add(1)
		m.l.verifiedOne()
	default:
		m.l.fail.add("store %q (%d bytes): %d %q (%s), want 200 %q or 507 %q", key, len(v), r.status, r.body, r.ctype, bodyStored, bodyFull)
	}
	return false
}

// mustSet stores key and fails unless the answer is the one wanted.
func (m *memStore) mustSet(key string, v []byte, want bool) {
	if got := m.set(key, v, rand.New(rand.NewPCG(1, 1))); got != want {
		m.l.fail.add("store %q with %d bytes: stored %v, want %v (%d of %d bytes held)", key, len(v), got, want, m.sum(), memLimit)
	}
}

// checkBytes fails if /stats counts more than the limit.
func (m *memStore) checkBytes() int64 {
	st, err := m.l.srv.stats(m.c.Client)
	if err != nil {
		m.l.fail.add("/stats: %v", err)
		return 0
	}
	if st.Bytes > memLimit {
		m.l.fail.add("/stats: %d bytes held, over --max-memory %d", st.Bytes, memLimit)
	}
	m.l.verifiedOne()
	return st.Bytes
}

// readOne reads a random acknowledged key (or, before any, a missing one).
func (m *memStore) readOne(rng *rand.Rand) {
	m.mu.Lock()
	key, want := "never-stored", []byte(nil)
	for k, v := range m.kv { // map order is random enough
		key, want = k, v
		break
	}
	m.mu.Unlock()
	m.check(key, want, rng)
}

// check reads key: it must hold want, or be absent if want is nil.
func (m *memStore) check(key string, want []byte, rng *rand.Rand) {
	r, err := m.l.do(m.c, "GET", "/get/"+escapeSegment([]byte(key)), nil, rng)
	switch {
	case err != nil:
		m.l.fail.add("read %q: %v", key, err)
	case want == nil && (r.status != 404 || string(r.body) != bodyNoKey):
		m.l.fail.add("read %q: %d, %d bytes; want 404", key, r.status, len(r.body))
	case want != nil && (r.status != 200 || !bytes.Equal(r.body, want)):
		m.l.fail.add("read %q: %d, %d bytes; want 200 and the %d bytes acknowledged", key, r.status, len(r.body), len(want))
	default:
		m.l.verifiedOne()
	}
}

func (m *memStore) sum() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, v := range m.kv {
		n += int64(len(k) + len(v))
	}
	return n
}

// edges checks, with nothing else running, that a store that would pass
// the limit by one byte is refused and one that reaches it exactly is
// taken; that replacing a value with one no larger succeeds at the limit
// and with a larger one does not; and that deleting frees room.
func (m *memStore) edges(t *testing.T) {
	m.checkStats(t)
	if free := int(memLimit - m.sum()); free > 0 {
		key := "edge"
		if free < len(key) {
			key = strings.Repeat("e", free)
		}
		m.mustSet(key, memValue(1, free-len(key)+1), false)
		m.mustSet(key, memValue(1, free-len(key)), true)
	}
	if n := m.checkBytes(); n != memLimit {
		m.l.fail.add("/stats: %d bytes held after filling the store to its limit, want %d", n, memLimit)
	}
	m.mustSet("over", nil, false)
	m.check("over", nil, nil)
	var key string
	for k, v := range m.kv {
		if len(v) >= 64 {
			key = k
			break
		}
	}
	old := m.kv[key]
	m.mustSet(key, memValue(2, len(old)), true)
	m.mustSet(key, memValue(3, len(old)+1), false)
	m.check(key, m.kv[key], nil)
	m.mustSet(key, memValue(4, len(old)-1), true)
	m.mustSet(key, memValue(5, len(old)), true) // takes back the byte it freed
	m.checkStats(t)

	r, err := m.l.do(m.c, "DELETE", "/store/"+escapeSegment([]byte(key)), nil, nil)
	if err != nil || r.status != 204 {
		t.Fatalf("delete %q: %+v %v; want 204", key, r, err)
	}
	m.l.verifiedOne()
	freed := len(key) + len(m.kv[key])
	delete(m.kv, key)
	m.check(key, nil, nil)
	m.mustSet("fresh", memValue(6, freed-len("fresh")+1), false)
	m.mustSet("fresh", memValue(6, freed-len("fresh")), true)
}

// readBack reads every acknowledged key, byte-exact.
func (m *memStore) readBack() {
	for k, v := range m.kv {
		m.check(k, v, nil)
	}
}

// checkStats compares /stats with what was acknowledged.
func (m *memStore) checkStats(t *testing.T) {
	t.Helper()
	st, err := m.l.srv.stats(m.c.Client)
	if err != nil {
		t.Fatalf("/stats: %v", err)
	}
	if sum := m.sum(); st.Keys != len(m.kv) || st.Bytes != sum || sum > memLimit {
		t.Errorf("/stats: %d keys, %d bytes; acknowledged %d keys, %d bytes (limit %d)", st.Keys, st.Bytes, len(m.kv), sum, memLimit)
	}
}
