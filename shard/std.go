package shard

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/corekv/corekv/api"
)

// serveStd serves the shard's listener with net/http: HTTP/1.1, HTTP/2 by
// prior knowledge (net/http's own) and Upgrade: h2c (handed to x/net/http2).
func (s *shard) serveStd(ctx context.Context) error {
	inner, err := s.ln.NetListener()
	s.ln.Close() // ln holds its own descriptor
	if err != nil {
		return err
	}
	ln := newLimitListener(inner, s.g.cfg.MaxConns, s)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	cfg := &s.g.cfg
	srv := &http.Server{
		Handler:        http.HandlerFunc(s.serveStdRequest),
		Protocols:      protocols,
		MaxHeaderBytes: cfg.MaxHeaderSize,
		ReadTimeout:    cfg.ReadTimeout,
		WriteTimeout:   cfg.IdleTimeout, // answers left unread count as idle
		IdleTimeout:    cfg.IdleTimeout,
		HTTP2:          &http.HTTP2Config{WriteByteTimeout: cfg.IdleTimeout},
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	s.serving.Store(true)
	defer s.serving.Store(false)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if srv.Shutdown(dctx) != nil {
		srv.Close()
	}
	if serveErr == nil {
		<-errc // http.ErrServerClosed, once Serve's goroutine is done
	}
	s.h2.wait(dctx)
	return serveErr
}

// limitListener accepts at most max connections open at once: at the limit
// Accept waits for one of them to close, and further connections wait in
// the kernel's accept queue. It counts the shard's accepted and open
// connections, hijacked ones included until they close.
type limitListener struct {
	net.Listener
	slots  chan struct{} // one element per open connection
	closed chan struct{}
	once   sync.Once
	s      *shard
}

func newLimitListener(ln net.Listener, max int, s *shard) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), closed: make(chan struct{}), s: s}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.s.m.Shared.Accepted()
	l.s.count.open.Add(1)
	return &limitConn{Conn: c, l: l}, nil
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back when it is first closed, after it is
// counted closed, so that /stats never shows more than the limit.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.s.count.open.Add(-1)
		<-c.l.slots
	})
	return err
}

// Read counts the bytes read.
func (c *limitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.s.m.Shared.Received(n)
	return n, err
}

// Write counts the bytes written.
func (c *limitConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.s.m.Shared.Sent(n)
	return n, err
}

// CloseWrite shuts the write side, which net/http does before it closes a
// connection after an error answer, so that the client reads the answer.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serveStdRequest serves one request, taking over the connection for an
// acceptable Upgrade: h2c request.
func (s *shard) serveStdRequest(w http.ResponseWriter, r *http.Request) {
	if !s.wantsStdUpgrade(r) {
		s.handler.ServeHTTP(w, r)
		return
	}
	settings, err := h2Settings(r.Header.Get("HTTP2-Settings"))
	if err != nil {
		s.handler.ServeHTTP(w, r) // a bad upgrade is ignored (RFC 9110, 7.8)
		return
	}
	body, err := api.ReadValue(r, s.g.cfg.Limits.MaxValueSize)
	if err != nil {
		return
	}
	// Reserve before the hijack: from then on net/http no longer counts
	// the connection, and the drain must still wait for it. Once the
	// drain waits, the upgrade is ignored.
	if !s.h2.reserve() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.handler.ServeHTTP(w, r)
		return
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.h2.release()
		return
	}
	s.h2.track(c) // a *limitConn: still counted open, still holding its slot
	pre := make([]byte, rw.Reader.Buffered())
	rw.Reader.Read(pre)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.serveStdH2(handoff{conn: c, prefix: pre, greeting: []byte(switching), upgrade: r, settings: settings})
}

// wantsStdUpgrade reports whether r asks for h2c in a way corekv accepts:
// HTTP/1.1, the Upgrade, Connection and HTTP2-Settings headers of RFC 7540
// section 3.2, and a body of known length within the value limit.
func (s *shard) wantsStdUpgrade(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || len(r.Header["Http2-Settings"]) != 1 {
		return false
	}
	if r.ContentLength < 0 || r.ContentLength > int64(s.g.cfg.Limits.MaxValueSize) {
		return false
	}
	return hasToken(r.Header["Upgrade"], "h2c") && hasToken(r.Header["Connection"], "upgrade") &&
		hasToken(r.Header["Connection"], "http2-settings")
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
