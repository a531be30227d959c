package shard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/store"
)

// memLoop is a loop with no descriptors, driven in memory: process answers
// into l.out, which the tests read instead of a socket.
func memLoop(t testing.TB) (*loop, *conn) {
	t.Helper()
	g := &Group{cfg: Config{
		Engine: EngineLoop,
		Store:  testStore(t, api.Limits{}, store.Config{}),
		Now:    func() time.Time { return time.Unix(1700000000, 0) },
	}.withDefaults()}
	g.exec = api.Exec{Store: g.cfg.Store, Limits: g.cfg.Limits, Stats: g.WriteStats}
	s := &shard{g: g, sem: newSemaphore(DefaultConcurrencyLimit), m: new(metrics.Shard)}
	g.shards = []*shard{s}
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
	l.cfg.Store.Set([]byte("k"), []byte("stored"), 0)
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

// TestProcessAllocs guards the hot path: answering a GET hit, GET / or an
// overwrite must not allocate (the body goes straight into the store).
func TestProcessAllocs(t *testing.T) {
	l, c := memLoop(t)
	l.cfg.Store.Set([]byte("key-0001"), bytes.Repeat([]byte("v"), 100), 0)
	for _, in := range []string{
		"GET /get/key-0001 HTTP/1.1\r\nHost: localhost:3000\r\nUser-Agent: wrk\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost:3000\r\n\r\n",
		"GET /get/key-0001 HTTP/1.1\r\nHost: x\r\n\r\nGET /get/key-0001 HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /store/key-0001?ttl=60 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("w", 100),
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

// TestProcessTTL stores with a ttl through the loop and checks that a GET
// then carries Cache-Control: max-age, and a bad ttl is refused.
func TestProcessTTL(t *testing.T) {
	l, c := memLoop(t)
	tests := []struct{ in, want string }{
		{"PUT /store/t?ttl=90 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", "HTTP/1.1 200 OK"},
		{"GET /get/t HTTP/1.1\r\nHost: x\r\n\r\n", "Cache-Control: max-age=90\r\n"},
		{"PUT /store/u?ttl=-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", "HTTP/1.1 400 Bad Request"},
		{"GET /get/u HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found"},
	}
	for _, tc := range tests {
		l.out.Reset()
		l.process(c, []byte(tc.in))
		var out []byte
		for _, b := range l.out.Segments(nil) {
			out = append(out, b...)
		}
		if !bytes.Contains(out, []byte(tc.want)) {
			t.Errorf("process(%q) = %q, want it to contain %q", tc.in, out, tc.want)
		}
	}
}

// BenchmarkProcessGet measures the loop's user-space cost of one GET hit,
// against net/http's request parsing alone as the baseline.
func BenchmarkProcessGet(b *testing.B) {
	l, c := memLoop(b)
	l.cfg.Store.Set([]byte("key-0001"), bytes.Repeat([]byte("v"), 100), 0)
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

// TestEpollErrorClosesConn checks that a failed epoll_ctl closes the
// connection, is counted in /stats and is logged once. memLoop has no
// epoll descriptor, so every epoll_ctl fails with EBADF; a full semaphore
// makes the loop park the request, which changes the connection's events.
func TestEpollErrorClosesConn(t *testing.T) {
	l, _ := memLoop(t)
	var logged []string
	l.cfg.Logf = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	for l.s.sem.tryAcquire() {
	}
	for i := range 2 {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		c := &conn{fd: fds[0]}
		l.conns = make([]*conn, fds[0]+1)
		l.conns[fds[0]] = c
		l.open++
		l.s.count.open.Add(1)
		l.out.Reset()
		l.process(c, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		if l.conns[fds[0]] == c {
			unix.Close(fds[0])
			t.Fatalf("request %d: the connection is still open after epoll_ctl failed", i)
		}
		if got := l.s.stats(); got.EpollErrors != uint64(i+1) || got.Open != 0 {
			t.Errorf("request %d: stats epoll_errors = %d, open = %d; want %d, 0", i, got.EpollErrors, got.Open, i+1)
		}
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "epoll_ctl") {
		t.Errorf("logged %q, want one line about epoll_ctl", logged)
	}
}
