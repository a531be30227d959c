package main

import (
	"bufio"
	"context"
	"crypto/tls"
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

// reply is what one request got back.
type reply struct {
	code  int
	body  string
	proto int   // the protocol's major version
	size  int64 // Content-Length; -1 when absent
}

// do sends one request and reads the whole answer.
func do(c *http.Client, method, addr, path, body string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, rd)
	if err != nil {
		return reply{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.ProtoMajor, resp.ContentLength}, err
}

func get(c *http.Client, addr, path string) (int, string, error) {
	r, err := do(c, http.MethodGet, addr, path, "")
	return r.code, r.body, err
}

// apiStep is one request of checkAPI and the answer it wants; a want.size
// of 0 means any.
type apiStep struct {
	method, path, body string
	want               reply
}

// apiSteps returns the requests checkAPI sends over protocol major proto:
// the greeting, then a key's whole life through both write methods, HEAD
// and DELETE.
func apiSteps(proto int) []apiStep {
	key := fmt.Sprintf("/vmtest-h%d", proto)
	v1, v2 := fmt.Sprintf("posted over h%d", proto), fmt.Sprintf("replaced by PUT over h%d", proto)
	return []apiStep{
		{http.MethodGet, "/", "", reply{code: 200, body: "Hello, World!"}},
		{http.MethodGet, "/get" + key, "", reply{code: 404}},
		{http.MethodPost, "/store" + key, v1, reply{code: 200}},
		{http.MethodGet, "/get" + key, "", reply{code: 200, body: v1}},
		{http.MethodPut, "/store" + key, v2, reply{code: 200}},
		{http.MethodHead, "/get" + key, "", reply{code: 200, size: int64(len(v2))}},
		{http.MethodGet, "/get" + key, "", reply{code: 200, body: v2}},
		{http.MethodDelete, "/store" + key, "", reply{code: 204}},
		{http.MethodGet, "/get" + key, "", reply{code: 404}},
		{http.MethodDelete, "/store" + key, "", reply{code: 404}},
	}
}

// checkAPI sends apiSteps over protocol major version proto and checks
// every answer's protocol, status, and body or Content-Length.
func checkAPI(c *http.Client, addr string, proto int) error {
	for _, s := range apiSteps(proto) {
		got, err := do(c, s.method, addr, s.path, s.body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.method, s.path, err)
		}
		bodyOK := s.want.body == "" || got.body == s.want.body
		if s.method == http.MethodHead {
			bodyOK = got.body == ""
		}
		if got.code != s.want.code || got.proto != proto || !bodyOK || s.want.size != 0 && got.size != s.want.size {
			return fmt.Errorf("%s %s = HTTP/%d %d %q (Content-Length %d), want HTTP/%d %d %q (Content-Length %d)",
				s.method, s.path, got.proto, got.code, got.body, got.size, proto, s.want.code, s.want.body, s.want.size)
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
	return &h1Conn{Conn: c, br: bufio.NewReader(c)}, nil
}

// get sends GET path and reads the whole answer, keeping the conn open.
func (c *h1Conn) get(path string) (int, []byte, error) {
	return c.do(http.MethodGet, path, "")
}

// do sends one request, with body as its Content-Length body unless it is
// a GET, and reads the whole answer, keeping the conn open.
func (c *h1Conn) do(method, path, body string) (int, []byte, error) {
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: vmtest\r\n", method, path)
	if method != http.MethodGet {
		head += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, head+"\r\n"+body); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
