package shard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// switching is the answer to an accepted Upgrade: h2c request.
const switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

// h2Conns tracks a shard's HTTP/2 connections so that a drain can wait for
// them and cut those still open when the shutdown timeout ends.
type h2Conns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func (t *h2Conns) add(c net.Conn) {
	t.mu.Lock()
	if t.conns == nil {
		t.conns = make(map[net.Conn]struct{})
	}
	t.conns[c] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
}

func (t *h2Conns) done(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.wg.Done()
}

// wait waits for the connections to end until ctx ends, then closes the
// rest.
func (t *h2Conns) wait(ctx context.Context) {
	ended := make(chan struct{})
	go func() { t.wg.Wait(); close(ended) }()
	select {
	case <-ended:
		return
	case <-ctx.Done():
	}
	t.mu.Lock()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	<-ended
}

// serveH2 serves c as an HTTP/2 connection until it ends. upgrade and
// settings come from an Upgrade: h2c request, which becomes stream 1.
func (s *Shard) serveH2(c net.Conn, upgrade *http.Request, settings []byte) {
	s.h2.add(c)
	defer s.h2.done(c)
	defer s.count.open.Add(-1)
	defer c.Close()
	s.g.h2.ServeConn(c, &http2.ServeConnOpts{
		BaseConfig:     s.g.h1,
		Handler:        s.handler,
		UpgradeRequest: upgrade,
		Settings:       settings,
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

// upgradeRequest rebuilds an Upgrade: h2c request for net/http from its
// head and its whole body. It is off the hot path: upgrades are rare.
func upgradeRequest(head, body []byte, remote string) (*http.Request, error) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.RemoteAddr = remote
	return r, nil
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

// writeAll writes b to c within a bound, for the bytes a hand-over must
// send before HTTP/2 starts.
func writeAll(c net.Conn, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	defer c.SetWriteDeadline(time.Time{})
	_, err := c.Write(b)
	return err
}
