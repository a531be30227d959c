package shard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/api"
)

// TestSlowloris checks that a client that sends its head a byte at a time
// and never finishes is answered 408 (the loop; net/http just closes) and
// closed after ReadTimeout.
func TestSlowloris(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine, ReadTimeout: 300 * time.Millisecond}, 1)
			c := dial(t, ts.addr)
			stop := make(chan struct{})
			dripped := make(chan struct{})
			go func() {
				defer close(dripped)
				head := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 1<<10)
				for i := 0; i < len(head); i++ {
					if _, err := c.Write([]byte{head[i]}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}()
			br := bufio.NewReader(c)
			c.SetReadDeadline(time.Now().Add(patience))
			if engine == EngineLoop {
				resp, body := readResponse(t, br, "GET")
				if resp.StatusCode != 408 || !resp.Close {
					t.Errorf("slow head: %d %q close %v, want 408 and close", resp.StatusCode, body, resp.Close)
				}
			}
			expectClosed(t, c, br)
			close(stop)
			<-dripped
			c.Close()
			waitOpen(t, ts.addr, 0)
		})
	}
}

// TestIdleTimeout checks that a keep-alive connection that carries no
// request is closed after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine, IdleTimeout: 300 * time.Millisecond}, 1)
			c := dial(t, ts.addr)
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(c)
			if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || resp.Close {
				t.Fatalf("request: %d %q close %v, want 200 keep-alive", resp.StatusCode, body, resp.Close)
			}
			c.SetReadDeadline(time.Now().Add(patience))
			if b, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("idle connection read %q, %v; want the server to close it (EOF)", b, err)
			}
			c.Close()
			waitOpen(t, ts.addr, 0)
		})
	}
}

// TestVanishingClient checks that connections whose client goes away in
// the middle of a request are closed, and that a half-sent value is not
// stored.
func TestVanishingClient(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		reset bool // close with an RST (SO_LINGER 0) instead of a FIN
	}{
		{"half a head", "POST /store/v HTTP/1.1\r\nHost: x\r\nContent-Le", false},
		{"half a body", "POST /store/v HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("v", 50), false},
		{"half a chunked body", "POST /store/v HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nvvvv", false},
		{"half a body, reset", "POST /store/v HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("v", 50), true},
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			for _, tc := range tests {
				c := dial(t, ts.addr)
				io.WriteString(c, tc.raw)
				waitOpen(t, ts.addr, 1) // the server has it
				if tc.reset {
					c.(*net.TCPConn).SetLinger(0)
				}
				c.Close()
				waitOpen(t, ts.addr, 0)
				if v, _, ok := ts.store.Get(nil, []byte("v")); ok {
					t.Errorf("%s: stored %q", tc.name, v)
				}
			}
			if code, body := get(t, ts.addr, "/"); code != 200 || body != api.Hello {
				t.Errorf("after the vanished clients: %d %q", code, body)
			}
		})
	}
}

// bigServer serves one shard with a 4 MiB value stored under "big": more
// than the socket buffers take at once.
func bigServer(t *testing.T, cfg Config) (*testServer, []byte) {
	t.Helper()
	cfg.Limits = api.Limits{MaxKeySize: 64, MaxValueSize: 8 << 20}
	ts := start(t, cfg, 1)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	if err := ts.store.Set([]byte("big"), big, 0); err != nil {
		t.Fatal(err)
	}
	return ts, big
}

// TestResetMidResponse checks that a client that resets its connection
// while a large answer is on its way is closed, and the shard goes on
// serving others.
func TestResetMidResponse(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts, _ := bigServer(t, Config{Engine: engine})
			c := dial(t, ts.addr)
			io.WriteString(c, strings.Repeat("GET /get/big HTTP/1.1\r\nHost: x\r\n\r\n", 4))
			c.SetReadDeadline(time.Now().Add(patience))
			if _, err := io.ReadFull(c, make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
			waitOpen(t, ts.addr, 1)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			waitOpen(t, ts.addr, 0)
			if code, body := get(t, ts.addr, "/"); code != 200 || body != api.Hello {
				t.Errorf("after the reset: %d %q", code, body)
			}
		})
	}
}

// TestHalfClose checks that a client that shuts its write side after its
// requests still gets every answer, large ones included, and that the loop
// does not spin while the answers wait for the client to read them.
func TestHalfClose(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts, big := bigServer(t, Config{Engine: engine})
			c := dial(t, ts.addr)
			io.WriteString(c, "GET /get/big HTTP/1.1\r\nHost: x\r\n\r\nGET /get/big HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.(*net.TCPConn).CloseWrite()
			if engine == EngineLoop {
				// The answers fill the socket buffers and the rest waits
				// in the loop, with the client's FIN already in.
				expectNoSpin(t, loopStat(t, ts), loopSpinWindow, loopSpinShare, "loop with unread answers to a half-closed client")
			}
			c.SetReadDeadline(time.Now().Add(patience))
			br := bufio.NewReader(c)
			for i, want := range []string{string(big), string(big), api.Hello} {
				resp, body := readResponse(t, br, "GET")
				if resp.StatusCode != 200 || body != want {
					t.Fatalf("answer %d: %d, %d bytes; want 200 and %d bytes", i, resp.StatusCode, len(body), len(want))
				}
			}
			expectClosed(t, c, br)
			c.Close()
			waitOpen(t, ts.addr, 0)
		})
	}
}

// TestParkedHalfClose checks that a request that waits for a concurrency
// slot is answered though its client shut its write side after sending it.
// The only slot is held by an HTTP/2 stream whose answer waits for flow
// control.
func TestParkedHalfClose(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop, ConcurrencyLimit: 1}, 1)
	h := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	h.get(1, "/")
	h.expectHeaders(1) // answered, its body held back: the stream keeps the slot
	c := dial(t, ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	expectNoAnswer(t, c)
	h.fr.WriteWindowUpdate(1, 100)
	if got := h.readBody(1); got != api.Hello {
		t.Fatalf("HTTP/2 body %q, want %q", got, api.Hello)
	}
	c.SetReadDeadline(time.Now().Add(patience))
	br := bufio.NewReader(c)
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != api.Hello {
		t.Errorf("parked request of a half-closed client: %d %q, want 200 %q", resp.StatusCode, body, api.Hello)
	}
}

// TestStuckReader checks that a client that pipelines many requests for a
// large value and never reads makes the server hold a bounded part of the
// answers, not all of them; that the shard goes on serving others; and
// that the connection is closed once its output has not drained for
// IdleTimeout.
func TestStuckReader(t *testing.T) {
	const requests = 64
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts, big := bigServer(t, Config{Engine: engine, IdleTimeout: 500 * time.Millisecond})
			c := dial(t, ts.addr)
			io.WriteString(c, strings.Repeat("GET /get/big HTTP/1.1\r\nHost: x\r\n\r\n", requests))
			if engine == EngineLoop {
				expectNoSpin(t, loopStat(t, ts), loopSpinWindow, loopSpinShare, "loop with a stuck reader")
			}
			other := dial(t, ts.addr)
			io.WriteString(other, "GET /get/big HTTP/1.1\r\nHost: x\r\n\r\n")
			other.SetReadDeadline(time.Now().Add(patience))
			if resp, body := readResponse(t, bufio.NewReader(other), "GET"); resp.StatusCode != 200 || body != string(big) {
				t.Fatalf("another client: %d, %d bytes; want 200 and the value", resp.StatusCode, len(body))
			}
			other.Close()
			// The server closes the stuck connection, though the client
			// keeps its end open. (/stats, asked in process here, so that
			// the request count below is the stuck client's and one more.)
			deadline := time.Now().Add(patience)
			for ts.g.Stats().Shards[0].Open != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the connection of a client that reads nothing stayed open")
				}
				time.Sleep(10 * time.Millisecond)
			}

			// What was answered fits the socket buffers (the server's send
			// buffer and the client's receive buffer, which does not grow
			// while the client does not read), plus a batch or two.
			sndbuf := ts.g.cfg.Listeners[0].Effective.SendBuffer
			rcvbuf, err := sockopt(c, unix.SOL_SOCKET, unix.SO_RCVBUF)
			if err != nil {
				t.Fatal(err)
			}
			limit := uint64((sndbuf+rcvbuf)/len(big) + 4)
			answered := ts.g.Stats().Shards[0].Requests - 1 // less the other client's
			if answered > limit {
				t.Errorf("the server answered %d of %d requests of a client that reads nothing; want at most %d (what the socket buffers hold, and a batch)", answered, requests, limit)
			}
		})
	}
}

func sockopt(c net.Conn, level, opt int) (int, error) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		return 0, err
	}
	return v, serr
}

// TestSlowClientsDoNotStarve is the key test: a well-behaved client
// gets every answer right while 500 slow clients, each holding a partial
// head and dripping more of it, are attached to the same shard.
func TestSlowClientsDoNotStarve(t *testing.T) {
	const slow = 500
	raiseNoFile(t, 2*slow+200)
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			var slowConns []net.Conn
			for i := 0; i < slow; i++ {
				c := dial(t, ts.addr)
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
				slowConns = append(slowConns, c)
			}
			waitOpen(t, ts.addr, slow)

			stop := make(chan struct{})
			dripped := make(chan struct{})
			go func() { // one more byte on every slow connection, round after round
				defer close(dripped)
				for {
					for _, c := range slowConns {
						c.Write([]byte{'s'})
					}
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()

			good := dial(t, ts.addr)
			good.SetDeadline(time.Now().Add(4 * patience))
			br := bufio.NewReader(good)
			for i := 0; i < 100; i++ {
				v := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i))
				fmt.Fprintf(good, "POST /store/k%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", i, len(v), v)
				if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 {
					t.Fatalf("store k%d: %d %q", i, resp.StatusCode, body)
				}
				fmt.Fprintf(good, "GET /get/k%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
				if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != v {
					t.Fatalf("get k%d: %d %q, want 200 %q", i, resp.StatusCode, body, v)
				}
				if i%10 == 0 { // and on new connections
					want := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i))
					if code, body := get(t, ts.addr, fmt.Sprintf("/get/k%d", i)); code != 200 || body != want {
						t.Fatalf("get k%d on a new connection: %d %q", i, code, body)
					}
				}
			}
			close(stop)
			<-dripped
			good.Close()
			waitOpen(t, ts.addr, slow) // the slow clients were all kept
			for _, c := range slowConns {
				c.Close()
			}
			waitOpen(t, ts.addr, 0)
		})
	}
}

// raiseNoFile raises this process's soft RLIMIT_NOFILE to at least n, up
// to the hard limit, or skips the test.
func raiseNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors the test needs", lim.Max, n)
	}
	old := lim
	lim.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &old) })
}

// TestDrainDoesNotSpin checks that the loop blocks in epoll while it waits,
// during a graceful shutdown, for a request in progress; and answers it.
func TestDrainDoesNotSpin(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop}, 1)
	stat := loopStat(t, ts)
	c := dial(t, ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHo")
	waitOpen(t, ts.addr, 1)
	ts.stop()
	deadline := time.Now().Add(patience)
	for { // the drain has begun once the listener is closed
		d, err := net.DialTimeout("tcp", ts.addr, patience)
		if err != nil {
			break
		}
		d.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener stayed open after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	expectNoSpin(t, stat, loopSpinWindow, loopSpinShare, "draining loop")
	io.WriteString(c, "st: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(patience))
	resp, body := readResponse(t, bufio.NewReader(c), "GET")
	if resp.StatusCode != 200 || body != api.Hello || !resp.Close {
		t.Errorf("request finished during the drain: %d %q close %v, want 200 and close", resp.StatusCode, body, resp.Close)
	}
	if err := <-ts.done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ts.done <- nil // for the cleanup
}

// TestChunkFramingBound sends a chunked body made of one-byte chunks with
// long extensions: within the parser's per-chunk overhead rule, but
// spanning far more than the value limit allows. The loop must refuse it
// with 413 instead of buffering it without bound, and store nothing.
func TestChunkFramingBound(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop, Limits: api.Limits{MaxValueSize: 64 << 10}}, 1)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, "POST /store/framed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := []byte("1;ext=aaaaaaaaaa\r\nz\r\n") // 21 bytes for 1 byte of data
		var batch []byte
		for range 1000 {
			batch = append(batch, chunk...)
		}
		for range 20 { // 420 KB of framing for 20,000 bytes of data
			if _, err := c.Write(batch); err != nil {
				return // refused and closed: expected
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to an over-framed chunked body: %v", err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !resp.Close {
		t.Errorf("over-framed chunked body: status %d close %v, want 413 and close", resp.StatusCode, resp.Close)
	}
	if _, _, ok := ts.store.Get(nil, []byte("framed")); ok {
		t.Errorf("a refused body was stored")
	}
}
