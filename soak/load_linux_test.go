package soak

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The bodies corekv answers with.
const (
	bodyStored = "OK\n"
	bodyNoKey  = "no such key\n"
	bodyFull   = "store is full: memory limit reached\n"
)

// soakClient is an HTTP client of one protocol: "h1" (HTTP/1.1) or "h2c"
// (HTTP/2 by prior knowledge).
type soakClient struct {
	*http.Client
	major int // the HTTP major version its replies must have
}

func newSoakClient(proto string) *soakClient {
	p := new(http.Protocols)
	major := 1
	if proto == "h2c" {
		p.SetUnencryptedHTTP2(true)
		major = 2
	} else {
		p.SetHTTP1(true)
	}
	tr := &http.Transport{Protocols: p, DisableCompression: true, MaxIdleConnsPerHost: 64}
	return &soakClient{Client: &http.Client{Transport: tr, Timeout: requestTimeout}, major: major}
}

// requestTimeout bounds one request of a soakClient, reply body
// included: a request the server leaves unanswered fails the test with
// its error instead of hanging it until go test's timeout. No request of
// these tests takes more than a fraction of it.
const requestTimeout = time.Minute

// soakReply is a complete reply.
type soakReply struct {
	status int
	body   []byte
	length int64 // its Content-Length, -1 if none
	ctype  string
	close  bool // the connection closes after it
}

// soakLoad is writers and readers of a set of keys, each key written by
// one writer, every reply checked.
type soakLoad struct {
	srv     *soakServer
	clients []*soakClient
	keys    [][]*soakKey // by writer
	all     []*soakKey
	fail    soakFailures

	verified atomic.Int64 // replies checked and found right
	drained  atomic.Int64 // of which received after SIGTERM
	cut      atomic.Int64 // requests that got no reply after SIGTERM
	live     atomic.Int64 // bytes of keys and values acknowledged present
	peakLive atomic.Int64
}

func newSoakLoad(srv *soakServer, clients []*soakClient, writers, keysPerWriter int) *soakLoad {
	l := &soakLoad{srv: srv, clients: clients}
	for w := range writers {
		var ks []*soakKey
		for i := range keysPerWriter {
			k := newSoakKey(uint32(len(l.all)), w, i)
			ks = append(ks, k)
			l.all = append(l.all, k)
		}
		l.keys = append(l.keys, ks)
	}
	return l
}

// run starts the writers, the readers and (on HTTP/1 only) readers that
// pipeline; they stop when ctx ends or after a failure. The returned
// function waits for them.
func (l *soakLoad) run(ctx context.Context, readers, pipeliners int) (wait func()) {
	ctx, cancel := context.WithCancel(ctx)
	l.fail.cancel = cancel
	var wg sync.WaitGroup
	for w := range l.keys {
		wg.Go(func() { l.writer(ctx, w) })
	}
	for r := range readers {
		wg.Go(func() { l.reader(ctx, r) })
	}
	for p := range pipeliners {
		wg.Go(func() { l.pipeliner(ctx, p) })
	}
	return func() { wg.Wait(); cancel() }
}

func (l *soakLoad) client(i int) *soakClient { return l.clients[i%len(l.clients)] }

// writer goes through the versions of its keys in random order and reads
// each write back: with no other writer, it must read exactly that version.
func (l *soakLoad) writer(ctx context.Context, w int) {
	rng := rand.New(rand.NewPCG(uint64(w), 1))
	c := l.client(w)
	for ctx.Err() == nil {
		k := l.keys[w][rng.IntN(len(l.keys[w]))]
		if !l.write(c, k, rng) || !l.read(c, k, rng) {
			return
		}
	}
}

func (l *soakLoad) reader(ctx context.Context, r int) {
	rng := rand.New(rand.NewPCG(uint64(r), 2))
	c := l.client(r + 1)
	for ctx.Err() == nil {
		if !l.read(c, l.all[rng.IntN(len(l.all))], rng) {
			return
		}
	}
}

// write sends the next version of k. It reports whether to go on.
func (l *soakLoad) write(c *soakClient, k *soakKey, rng *rand.Rand) bool {
	v := k.started.Load() + 1
	wasPresent, before := l.entry(k, v-1)
	del, _ := soakStep(k.id, v)
	k.started.Store(v)
	var r soakReply
	var err error
	what := fmt.Sprintf("%s version %d", k.name, v)
	if del {
		r, err = l.do(c, "DELETE", "/store/"+k.seg, nil, rng)
	} else {
		r, err = l.do(c, []string{"POST", "PUT"}[rng.IntN(2)], "/store/"+k.seg, soakValue(k.id, v), rng)
	}
	switch {
	case err != nil:
		return l.noReply(what, err)
	case !del && (r.status != 200 || string(r.body) != bodyStored):
		return l.fail.add("store %q: %d %q, want 200 %q", what, r.status, r.body, bodyStored)
	case del && wasPresent && (r.status != 204 || len(r.body) != 0):
		return l.fail.add("delete %q (present): %d %q, want 204 and no body", what, r.status, r.body)
	case del && !wasPresent && (r.status != 404 || string(r.body) != bodyNoKey):
		return l.fail.add("delete %q (absent): %d %q, want 404 %q", what, r.status, r.body, bodyNoKey)
	}
	k.acked.Store(v)
	_, after := l.entry(k, v)
	l.verifiedOne()
	l.addLive(after - before)
	return true
}

// entry reports whether version v leaves k present and the bytes that k
// then counts against --max-memory.
func (l *soakLoad) entry(k *soakKey, v uint64) (bool, int64) {
	if v == 0 {
		return false, 0
	}
	del, size := soakStep(k.id, v)
	if del {
		return false, 0
	}
	return true, int64(len(k.name) + size)
}

func (l *soakLoad) addLive(delta int64) {
	n := l.live.Add(delta)
	for p := l.peakLive.Load(); n > p && !l.peakLive.CompareAndSwap(p, n); p = l.peakLive.Load() {
	}
}

// read GETs or HEADs k and checks the reply against the versions k went
// through while the request ran. It reports whether to go on.
func (l *soakLoad) read(c *soakClient, k *soakKey, rng *rand.Rand) bool {
	head := rng.IntN(8) == 0
	lo := k.acked.Load()
	r, err := l.do(c, readMethod(head), "/get/"+k.seg, nil, rng)
	hi := k.started.Load()
	if err != nil {
		return l.noReply(string(k.name), err)
	}
	return l.checkRead(k, head, r, lo, hi)
}

func readMethod(head bool) string {
	if head {
		return "HEAD"
	}
	return "GET"
}

func (l *soakLoad) checkRead(k *soakKey, head bool, r soakReply, lo, hi uint64) bool {
	ok := false
	switch r.status {
	case 200:
		if head {
			ok = len(r.body) == 0 && k.matchesSize(true, r.length, lo, hi)
		} else {
			ok = k.matches(true, r.body, lo, hi)
		}
	case 404:
		ok = k.matches(false, nil, lo, hi) && (head && len(r.body) == 0 || string(r.body) == bodyNoKey)
	}
	if !ok {
		return l.fail.add("read %q (head %v) while it went through versions %d..%d: %d, Content-Length %d, body %s",
			k.name, head, lo, hi, r.status, r.length, soakDescribe(r.body))
	}
	l.verifiedOne()
	return true
}

func (l *soakLoad) verifiedOne() {
	l.verified.Add(1)
	if l.srv.sigterm.Load() {
		l.drained.Add(1)
	}
}

// noReply handles a request that got no complete reply: after SIGTERM a
// worker stops at its first; before, it is a failure.
func (l *soakLoad) noReply(what string, err error) bool {
	if l.srv.sigterm.Load() {
		l.cut.Add(1)
		return false
	}
	return l.fail.add("%s: no reply: %v", what, err)
}

// do sends one request and reads the whole reply. Some bodies go chunked
// (no Content-Length), some requests ask to close the connection; none
// when rng is nil.
func (l *soakLoad) do(c *soakClient, method, path string, body []byte, rng *rand.Rand) (soakReply, error) {
	req, err := http.NewRequest(method, "http://"+l.srv.addr+path, bytes.NewReader(body))
	if err != nil {
		return soakReply{}, err
	}
	switch {
	case body == nil:
		req.Body, req.ContentLength = nil, 0
	case rng != nil && rng.IntN(8) == 0:
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), -1
	}
	req.Close = rng != nil && rng.IntN(32) == 0
	resp, err := c.Do(req)
	if err != nil {
		return soakReply{}, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return soakReply{}, fmt.Errorf("body after %d bytes: %w", len(got), err)
	}
	if resp.ProtoMajor != c.major {
		l.fail.add("%s %s: reply over HTTP/%d, want HTTP/%d", method, path, resp.ProtoMajor, c.major)
	}
	return soakReply{status: resp.StatusCode, body: got, length: resp.ContentLength, ctype: resp.Header.Get("Content-Type")}, nil
}

// readBack reads every key once the writers have stopped: each must hold
// exactly its last acknowledged version. It returns the keys present and
// the bytes they count, as /stats must report them.
func (l *soakLoad) readBack(c *soakClient) (keys int, held int64) {
	rng := rand.New(rand.NewPCG(0, 4))
	for _, k := range l.all {
		v := k.acked.Load()
		if v != k.started.Load() {
			l.fail.add("key %q: version %d started but not acknowledged", k.name, v+1)
		}
		r, err := l.do(c, "GET", "/get/"+k.seg, nil, rng)
		if err != nil {
			l.fail.add("read back %q: %v", k.name, err)
			continue
		}
		l.checkRead(k, false, r, v, v)
		if present, n := l.entry(k, v); present {
			keys++
			held += n
		}
	}
	return keys, held
}

// soakFailures collects what went wrong in the workers, keeping the first
// messages, and stops the load at the first.
type soakFailures struct {
	mu     sync.Mutex
	n      int
	first  []string
	cancel func()
}

// add records a failure and reports false, for "do not go on".
func (f *soakFailures) add(format string, args ...any) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.first) < 10 {
		f.first = append(f.first, fmt.Sprintf(format, args...))
	}
	if f.cancel != nil {
		f.cancel()
	}
	return false
}

func (f *soakFailures) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// report fails t with the failures recorded since the last report.
func (f *soakFailures) report(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.first {
		t.Error(m)
	}
	if f.n > len(f.first) {
		t.Errorf("and %d more failures", f.n-len(f.first))
	}
	f.n, f.first = 0, nil
}

// waitFor polls until cond holds or ctx ends, and reports whether it held.
func waitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}
