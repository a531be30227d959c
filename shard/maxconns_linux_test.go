package shard

import (
	"bufio"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
)

// TestMaxConns checks that a shard holding MaxConns connections, HTTP/2
// ones included, leaves further ones unanswered in the accept queue until
// one closes, and then serves them; and that /stats never counts more.
func TestMaxConns(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine, MaxConns: 2}, 1)
			var peak atomic.Int64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					peak.Store(max(peak.Load(), ts.g.Stats().Shards[0].Open))
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Microsecond):
					}
				}
			}()

			h2 := h2Conn(t, ts.addr)
			h1 := dial(t, ts.addr)
			io.WriteString(h1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp, body := readResponse(t, bufio.NewReader(h1), "GET"); resp.StatusCode != 200 {
				t.Fatalf("second connection: %d %q", resp.StatusCode, body)
			}

			// A third connection waits until the HTTP/2 one closes.
			third := dial(t, ts.addr)
			io.WriteString(third, "GET /get/k HTTP/1.1\r\nHost: x\r\n\r\n")
			expectNoAnswer(t, third)
			ts.store.Set([]byte("k"), []byte("third"), 0)
			h2.Close()
			third.SetReadDeadline(time.Now().Add(patience))
			br3 := bufio.NewReader(third)
			if resp, body := readResponse(t, br3, "GET"); resp.StatusCode != 200 || body != "third" {
				t.Fatalf("third connection after one closed: %d %q, want 200 %q", resp.StatusCode, body, "third")
			}

			// A fourth waits until the HTTP/1 one closes.
			fourth := dial(t, ts.addr)
			io.WriteString(fourth, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			expectNoAnswer(t, fourth)
			h1.Close()
			fourth.SetReadDeadline(time.Now().Add(patience))
			if resp, body := readResponse(t, bufio.NewReader(fourth), "GET"); resp.StatusCode != 200 || body != api.Hello {
				t.Fatalf("fourth connection after one closed: %d %q", resp.StatusCode, body)
			}

			third.Close()
			fourth.Close()
			close(stop)
			<-sampled
			if p := peak.Load(); p > 2 {
				t.Errorf("the shard held %d connections at once, want at most MaxConns = 2", p)
			}
			waitOpen(t, ts.addr, 0)
		})
	}
}

// TestUpgradeAccounting checks that a connection upgraded to h2c counts as
// one open connection until it closes, in both engines.
func TestUpgradeAccounting(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine, MaxConns: 2}, 1)
			testUpgrade(t, ts.addr) // the upgraded connection and one more
			waitOpen(t, ts.addr, 0)
		})
	}
}

// expectNoAnswer checks that nothing comes on c for a while: a connection
// waiting in the accept queue. A correct server never answers it, so the
// wait only bounds the check.
func expectNoAnswer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var b [1]byte
	n, err := c.Read(b[:])
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("a connection beyond MaxConns got %q, %v; want no answer", b[:n], err)
	}
	c.SetReadDeadline(time.Time{})
}

// h2Conn opens an HTTP/2 connection by prior knowledge and waits for the
// server's SETTINGS: the server accepted it and serves it.
func h2Conn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(patience))
	io.WriteString(c, http1.Preface)
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("HTTP/2 connection: %v", err)
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			break
		}
	}
	c.SetDeadline(time.Time{})
	return c
}
