package shard

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
)

// serveStd serves the shard's listener with net/http: HTTP/1.1, HTTP/2 by
// prior knowledge (net/http's own) and Upgrade: h2c (handed to x/net/http2).
func (s *Shard) serveStd(ctx context.Context) error {
	ln, err := s.ln.NetListener()
	s.ln.Close() // ln holds its own descriptor
	if err != nil {
		return err
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:        http.HandlerFunc(s.serveStdRequest),
		Protocols:      protocols,
		MaxHeaderBytes: s.g.cfg.MaxHeaderSize,
		ConnState:      s.connState,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), s.g.cfg.ShutdownTimeout)
	defer cancel()
	if srv.Shutdown(dctx) != nil {
		srv.Close()
	}
	s.h2.wait(dctx)
	return nil
}

func (s *Shard) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.count.accepted.Add(1)
		s.count.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.count.open.Add(-1)
	}
}

// serveStdRequest serves one request, taking over the connection for an
// acceptable Upgrade: h2c request.
func (s *Shard) serveStdRequest(w http.ResponseWriter, r *http.Request) {
	if !s.wantsStdUpgrade(r) {
		s.handler.ServeHTTP(w, r)
		return
	}
	settings, err := h2Settings(r.Header.Get("HTTP2-Settings"))
	if err != nil {
		s.handler.ServeHTTP(w, r) // a bad upgrade is ignored (RFC 9110, 7.8)
		return
	}
	body, err := readValue(r, s.g.cfg.Limits.MaxValueSize)
	if err != nil {
		return
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	s.count.open.Add(1)
	pre := make([]byte, rw.Reader.Buffered())
	rw.Reader.Read(pre)
	if writeAll(c, []byte(switching)) != nil {
		s.count.open.Add(-1)
		c.Close()
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.serveH2(&prefixConn{Conn: c, prefix: pre}, r, settings)
}

// wantsStdUpgrade reports whether r asks for h2c in a way corekv accepts:
// HTTP/1.1, the Upgrade, Connection and HTTP2-Settings headers of RFC 7540
// section 3.2, and a body of known length within the value limit.
func (s *Shard) wantsStdUpgrade(r *http.Request) bool {
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

// readValue reads a whole request body of at most max bytes.
func readValue(r *http.Request, max int) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(nil, r.Body, int64(max)))
}
