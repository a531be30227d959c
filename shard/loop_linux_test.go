package shard

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/store"
)

// memLoop is a loop with no descriptors, driven in memory: process answers
// into l.out, which the tests read instead of a socket.
func memLoop(t testing.TB) (*loop, *conn) {
	t.Helper()
	g := &Group{cfg: Config{
		Engine: EngineLoop,
		Store:  store.NewLockFree(store.Config{Presize: 1024}),
		Now:    func() time.Time { return time.Unix(1700000000, 0) },
	}.withDefaults()}
	g.exec = api.Exec{Store: g.cfg.Store, Limits: g.cfg.Limits, Stats: g.WriteStats}
	s := &Shard{g: g, sem: newSemaphore(DefaultConcurrencyLimit)}
	g.shards = []*Shard{s}
	l := &loop{s: s, cfg: &g.cfg, epfd: -1, wakefd: -1, lfd: -1}
	l.init()
	return l, &conn{fd: -1}
}

// output returns the batch's bytes as the socket would get them.
func output(l *loop) []byte {
	return l.out.BytesFrom(0)
}

func TestProcessAnswers(t *testing.T) {
	l, c := memLoop(t)
	l.cfg.Store.Set([]byte("k"), []byte("stored"))
	in := []byte("GET /get/k HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /get/k HTTP/1.1\r\nHo")
	l.out.Reset()
	used, handedOff := l.process(c, in)
	if handedOff || used != bytes.LastIndex(in, []byte("GET")) {
		t.Fatalf("process used %d (handed off %v), want %d", used, handedOff, bytes.LastIndex(in, []byte("GET")))
	}
	br := bufio.NewReader(bytes.NewReader(output(l)))
	for _, want := range []string{"stored", "Hello, World!"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("answer %d %q, want 200 %q", resp.StatusCode, body, want)
		}
		if resp.Header.Get("Date") != "Tue, 14 Nov 2023 22:13:20 GMT" {
			t.Errorf("Date = %q, want the injected clock's", resp.Header.Get("Date"))
		}
	}
}

// TestProcessAllocs guards the hot path: answering a GET hit or GET / must
// not allocate.
func TestProcessAllocs(t *testing.T) {
	l, c := memLoop(t)
	l.cfg.Store.Set([]byte("key-0001"), bytes.Repeat([]byte("v"), 100))
	for _, in := range []string{
		"GET /get/key-0001 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost:3000\r\n\r\n",
		"GET /get/key-0001 HTTP/1.1\r\nHost: x\r\n\r\nGET /get/key-0001 HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		data := []byte(in)
		allocs := testing.AllocsPerRun(1000, func() {
			l.out.Reset()
			if used, _ := l.process(c, data); used != len(data) {
				t.Fatalf("process used %d of %d bytes", used, len(data))
			}
		})
		if allocs != 0 {
			t.Errorf("process(%q) allocates %.1f times per run, want 0", in, allocs)
		}
	}
}

// BenchmarkProcessGet measures the loop's user-space cost of one GET hit,
// against net/http's request parsing alone as the baseline.
func BenchmarkProcessGet(b *testing.B) {
	l, c := memLoop(b)
	l.cfg.Store.Set([]byte("key-0001"), bytes.Repeat([]byte("v"), 100))
	data := []byte("GET /get/key-0001 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		l.out.Reset()
		if used, _ := l.process(c, data); used != len(data) {
			b.Fatal("request not answered")
		}
	}
}

func BenchmarkNetHTTPReadRequest(b *testing.B) {
	data := []byte("GET /get/key-0001 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\n\r\n")
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(data)
		br.Reset(r)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
