package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAppendRequests(t *testing.T) {
	var b []byte
	b = AppendGet(b, "h:1", "key7")
	b = AppendStoreHead(b, "h:1", "key8", 5)
	b = append(b, "hello"...)
	want := "GET /get/key7 HTTP/1.1\r\nHost: h:1\r\n\r\n" +
		"POST /store/key8 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 5\r\n\r\nhello"
	if string(b) != want {
		t.Fatalf("requests = %q, want %q", b, want)
	}
	// net/http must read them as the requests they mean.
	br := bufio.NewReader(bytes.NewReader(b))
	for _, w := range []struct{ method, path, body string }{{"GET", "/get/key7", ""}, {"POST", "/store/key8", "hello"}} {
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if req.Method != w.method || req.URL.Path != w.path || string(body) != w.body || req.Host != "h:1" {
			t.Errorf("net/http read %s %s %q (host %q), want %s %s %q", req.Method, req.URL.Path, body, req.Host, w.method, w.path, w.body)
		}
	}
}

type want struct {
	status int
	body   string
	close  bool
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []want
		wantErr string // error after the responses in want
	}{
		{"hit", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", []want{{200, "hello", false}}, "EOF"},
		{"miss", "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nContent-Type: text/plain\r\n\r\nnot found", []want{{404, "not found", false}}, "EOF"},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", []want{{204, "", false}}, "EOF"},
		{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", []want{{200, "", false}}, "EOF"},
		{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", []want{{200, "x", false}}, "EOF"},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", []want{{200, "hi", false}}, "EOF"},
		{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", []want{{200, "hi", true}}, "EOF"},
		{"pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nbc",
			[]want{{200, "a", false}, {404, "", false}, {200, "bc", false}}, "EOF"},
		{"interim skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", []want{{200, "ok", false}}, "EOF"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
			[]want{{200, "hello, world", false}, {204, "", false}}, "EOF"},
		{"duplicate equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", []want{{200, "x", false}}, "EOF"},
		{"empty stream", "", nil, "EOF"},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", nil, "unexpected EOF"},
		{"truncated head", "HTTP/1.1 200 OK\r\nContent-Len", nil, "unexpected EOF"},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nbody", nil, ErrNoLength.Error()},
		{"HTTP/2 status", "HTTP/2 200\r\n\r\n", nil, `malformed status line in "HTTP/2 200"`},
		{"letters in code", "HTTP/1.1 2x0 OK\r\n\r\n", nil, "malformed status code"},
		{"two-digit code", "HTTP/1.1 099 OK\r\n\r\n", nil, "malformed status code"},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", nil, "bad Content-Length"},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", nil, "bad Content-Length"},
		{"header without colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", nil, `malformed header in "nonsense"`},
		{"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", nil, "unsupported transfer coding"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", nil, "bad chunk size"},
		{"chunk overruns", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", nil, "chunk not followed by a line break"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), 4096)
			for i, w := range tc.want {
				resp, err := r.Read()
				if err != nil {
					t.Fatalf("Read() #%d: %v", i, err)
				}
				if resp.Status != w.status || string(resp.Body) != w.body || resp.Close != w.close {
					t.Fatalf("Read() #%d = %d %q close=%v, want %d %q close=%v", i, resp.Status, resp.Body, resp.Close, w.status, w.body, w.close)
				}
			}
			_, err := r.Read()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("final Read() = %v, want an error containing %q", err, tc.wantErr)
			}
			if tc.wantErr == "EOF" && err != io.EOF {
				t.Fatalf("final Read() = %v, want io.EOF itself at a clean end", err)
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	r := NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), 4096)
	r.MaxBody = 10
	var pe *ParseError
	if _, err := r.Read(); !errors.As(err, &pe) {
		t.Errorf("Read() of a body over MaxBody = %v, want a ParseError", err)
	}
	r = NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nX: "+strings.Repeat("a", 100)+"\r\n\r\n"), 16)
	if _, err := r.Read(); !errors.As(err, &pe) || !strings.Contains(err.Error(), "longer than 16 bytes") {
		t.Errorf("Read() of a long header = %v, want a ParseError about its length", err)
	}
}

func TestReadAllocs(t *testing.T) {
	one := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("v", 100)
	src := strings.NewReader("")
	r := NewReader(src, 64<<10)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(one)
		r.br.Reset(src)
		if resp, err := r.Read(); err != nil || resp.Status != 200 || len(resp.Body) != 100 {
			t.Fatalf("Read() = %d %d bytes, %v", resp.Status, len(resp.Body), err)
		}
	})
	if allocs != 0 {
		t.Errorf("Read allocates %v times per response, want 0", allocs)
	}
}

// FuzzRead checks that Read never panics and agrees with net/http on the
// responses both accept.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0 200 OK\nContent-Length: 1\n\nx",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		resp, err := NewReader(strings.NewReader(s), 4096).Read()
		if err != nil {
			return
		}
		ref, refErr := http.ReadResponse(bufio.NewReader(strings.NewReader(s)), nil)
		if refErr != nil {
			return // stricter than us on headers we ignore: fine
		}
		body, bodyErr := io.ReadAll(ref.Body)
		if bodyErr != nil || ref.StatusCode < 200 {
			return
		}
		if ref.StatusCode != resp.Status {
			t.Fatalf("status %d, net/http %d", resp.Status, ref.StatusCode)
		}
		if (ref.ContentLength >= 0 || len(ref.TransferEncoding) > 0) && !bytes.Equal(body, resp.Body) {
			t.Fatalf("body %q, net/http %q", resp.Body, body)
		}
	})
}
