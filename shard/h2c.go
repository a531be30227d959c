package shard

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// switching is the answer to an accepted Upgrade: h2c request.
const switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

// h2Conns tracks the std engine's upgraded HTTP/2 connections so that a
// drain can wait for them and cut those still open when the shutdown
// timeout ends. A connection is reserved before it leaves net/http (by
// Hijack), so that no hand-over in progress escapes the wait.
type h2Conns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	waiting bool // wait has begun: no more reservations
	cut     bool // the drain's deadline passed: connections close on sight
}

// reserve counts a connection about to be handed over, and reports false
// once the drain has begun waiting (the caller then does without it). A
// reservation ends with done, or with release if the hand-over failed.
func (t *h2Conns) reserve() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *h2Conns) release() { t.wg.Done() }

// track records the reserved connection c, so that the drain can cut it.
func (t *h2Conns) track(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		c.Close()
	}
	if t.conns == nil {
		t.conns = make(map[net.Conn]struct{})
	}
	t.conns[c] = struct{}{}
}

func (t *h2Conns) done(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.wg.Done()
}

// wait waits for the connections to end until ctx ends, then closes the
// rest and waits for their goroutines to return.
func (t *h2Conns) wait(ctx context.Context) {
	t.mu.Lock()
	t.waiting = true
	t.mu.Unlock()
	ended := make(chan struct{})
	go func() { t.wg.Wait(); close(ended) }()
	select {
	case <-ended:
		return
	case <-ctx.Done():
	}
	t.mu.Lock()
	t.cut = true
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	<-ended
}

// handoff is a connection on its way to the HTTP/2 server.
type handoff struct {
	conn     net.Conn      // reserved and tracked in shard.h2
	prefix   []byte        // input read before the hand-over
	greeting []byte        // output to send first: earlier answers, 101 Switching Protocols
	upgrade  *http.Request // an Upgrade: h2c request, which becomes stream 1
	settings []byte        // its HTTP2-Settings
}

// serveStdH2 serves a connection the std engine handed over as HTTP/2,
// with x/net/http2, until it ends.
func (s *shard) serveStdH2(h handoff) {
	defer s.h2.done(h.conn)
	defer h.conn.Close()
	if writeAll(h.conn, h.greeting, s.g.cfg.Now()) != nil {
		return
	}
	s.g.h2.ServeConn(&prefixConn{Conn: h.conn, prefix: h.prefix}, &http2.ServeConnOpts{
		BaseConfig:     s.g.h1,
		Handler:        s.handler,
		UpgradeRequest: h.upgrade,
		Settings:       h.settings,
	})
}

// h2Settings decodes an HTTP2-Settings header (RFC 7540, section 3.2.1).
func h2Settings(v string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(trimPadding(v))
}

func trimPadding(v string) string {
	for len(v) > 0 && v[len(v)-1] == '=' {
		v = v[:len(v)-1]
	}
	return v
}

// prefixConn is a net.Conn whose first reads return bytes that were read
// from the socket before the hand-over.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// handOffWriteTimeout bounds the write of what a hand-over must send before
// HTTP/2 starts.
const handOffWriteTimeout = 10 * time.Second

// writeAll writes b to c within handOffWriteTimeout from now.
func writeAll(c net.Conn, b []byte, now time.Time) error {
	if len(b) == 0 {
		return nil
	}
	c.SetWriteDeadline(now.Add(handOffWriteTimeout))
	defer c.SetWriteDeadline(time.Time{})
	_, err := c.Write(b)
	return err
}
