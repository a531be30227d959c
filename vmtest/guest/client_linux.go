package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// h1Client returns an HTTP/1.1 client with its own connection pool.
func h1Client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
}

// h2cClient returns an HTTP/2 client that speaks cleartext with prior
// knowledge.
func h2cClient() *http.Client {
	t := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// do sends one request and returns the status, body and protocol major.
func do(c *http.Client, method, addr, path, body string) (int, string, int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, rd)
	if err != nil {
		return 0, "", 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.ProtoMajor, err
}

func get(c *http.Client, addr, path string) (int, string, error) {
	code, body, _, err := do(c, http.MethodGet, addr, path, "")
	return code, body, err
}

// checkAPI stores, reads, deletes and reads again one key, and checks the
// greeting, all over protocol major version proto.
func checkAPI(c *http.Client, addr string, proto int) error {
	key := fmt.Sprintf("/vmtest-h%d", proto)
	steps := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{http.MethodGet, "/", "", 200, "Hello, World!"},
		{http.MethodPost, "/store" + key, "value over h" + fmt.Sprint(proto), 200, ""},
		{http.MethodGet, "/get" + key, "", 200, "value over h" + fmt.Sprint(proto)},
		{http.MethodDelete, "/store" + key, "", 204, ""},
		{http.MethodGet, "/get" + key, "", 404, ""},
	}
	for _, s := range steps {
		code, body, major, err := do(c, s.method, addr, s.path, s.body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.method, s.path, err)
		}
		if code != s.code || major != proto || (s.want != "" && body != s.want) {
			return fmt.Errorf("%s %s = HTTP/%d %d %q, want HTTP/%d %d %q",
				s.method, s.path, major, code, body, proto, s.code, s.want)
		}
	}
	return nil
}

// h1Conn is one raw HTTP/1.1 keep-alive connection.
type h1Conn struct {
	net.Conn
	br *bufio.Reader
}

func dialH1(addr string) (*h1Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return &h1Conn{Conn: c, br: bufio.NewReader(c)}, nil
}

// get sends GET path and reads the whole answer, keeping the conn open.
func (c *h1Conn) get(path string) (int, []byte, error) {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: vmtest\r\n\r\n", path); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// checkSpread opens many connections at once and checks through /stats
// that SO_REUSEPORT gave every shard some of them. Both /stats requests go
// over one connection opened first, so they add no accept of their own.
func checkSpread(addr string) (string, error) {
	ctl, err := dialH1(addr)
	if err != nil {
		return "", err
	}
	defer ctl.Close()
	before, err := statsOver(ctl)
	if err != nil {
		return "", err
	}
	n := 16 * len(before.Shards)
	var conns []*h1Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := dialH1(addr)
		if err != nil {
			return "", err
		}
		conns = append(conns, c)
		if code, body, err := c.get("/"); err != nil || code != 200 || string(body) != "Hello, World!" {
			return "", fmt.Errorf("GET / on conn %d: %d %q %v", len(conns), code, body, err)
		}
	}
	after, err := statsOver(ctl)
	if err != nil {
		return "", err
	}
	return spreadReport(before, after, n)
}

func statsOver(c *h1Conn) (*stats, error) {
	code, body, err := c.get("/stats")
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("GET /stats: status %d", code)
	}
	return decodeStats(body)
}

// spreadReport checks that every shard accepted some of the n connections
// and that they are all still open.
func spreadReport(before, after *stats, n int) (string, error) {
	if len(after.Shards) != len(before.Shards) {
		return "", fmt.Errorf("shard count changed from %d to %d", len(before.Shards), len(after.Shards))
	}
	var errs []error
	var detail []string
	var accepted uint64
	var open int64
	for i, sh := range after.Shards {
		d := sh.Accepted - before.Shards[i].Accepted
		accepted += d
		open += sh.Open
		detail = append(detail, fmt.Sprintf("%d:+%d", i, d))
		if d == 0 {
			errs = append(errs, fmt.Errorf("shard %d (cpu %d) accepted none of %d connections", i, sh.CPU, n))
		}
	}
	if accepted != uint64(n) || open < int64(n)+1 {
		errs = append(errs, fmt.Errorf("accepted %d and open %d, want %d and at least %d", accepted, open, n, n+1))
	}
	return fmt.Sprintf("conns=%d accepted %s", n, strings.Join(detail, " ")), errors.Join(errs...)
}
