package shard

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"
)

// TestRequestLineVersions covers the HTTP/1 front's answers to request
// lines by their version: a line whose version is no HTTP version at all
// (h2spec http2/3.5/2 sends "INVALID CONNECTION PREFACE") closes the loop's
// connection without an answer, where net/http answers 400; HTTP/1.2 and
// later minors are served as HTTP/1.1 (RFC 9110, section 2.5); other
// versions and malformed ones keep their 505 and 400.
func TestRequestLineVersions(t *testing.T) {
	const ok = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name      string
		raw       string
		loop, std []int // the statuses answered, in order, before the close
	}{
		{"invalid connection preface", "INVALID CONNECTION PREFACE\r\n\r\n", nil, []int{400}},
		{"after a served request", ok + "INVALID CONNECTION PREFACE\r\n\r\n", []int{200}, []int{200, 400}},
		{"other protocol", "GET / SPDY/3\r\nHost: x\r\n\r\n", nil, []int{400}},
		{"lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", []int{400}, []int{400}},
		{"malformed version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", []int{400}, []int{400}},
		{"four words", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}, []int{400}},
		{"http 1.2 served as 1.1", "GET / HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n", []int{200}, []int{200}},
		{"http 1.9 needs host", "GET / HTTP/1.9\r\n\r\n", []int{400}, []int{400}},
		{"http 2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", []int{505}, []int{505}},
		{"http 3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", []int{505}, []int{505}},
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			for _, tc := range tests {
				want := tc.loop
				if engine == EngineStd {
					want = tc.std
				}
				got, err := statusesUntilClose(ts.addr, tc.raw)
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
				} else if !slices.Equal(got, want) {
					t.Errorf("%s: answered %v, then closed; want %v", tc.name, got, want)
				}
			}
		})
	}
}

// statusesUntilClose sends raw on a new connection and returns the status
// of each answer until the server closes the connection. Every answer must
// be HTTP/1.1.
func statusesUntilClose(addr, raw string) ([]int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, errors.New("the connection stayed open")
	}
	var statuses []int
	rd := bytes.NewReader(out)
	br := bufio.NewReader(rd)
	for rd.Len() > 0 || br.Buffered() > 0 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses, err
		}
		if resp.Proto != "HTTP/1.1" {
			return statuses, errors.New("answered with " + resp.Proto)
		}
		io.Copy(io.Discard, resp.Body)
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses, nil
}
