package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestAppendRequests(t *testing.T) {
	var b []byte
	b = AppendGet(b, "h:1", []byte("key7"))
	b = AppendStoreHead(b, "h:1", []byte("key8"), 5)
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

// parseAll parses every response of in and returns them with the error
// that stopped it (nil when in was used up).
func parseAll(p *Parser, in string) ([]want, error) {
	b := []byte(in)
	var got []want
	for len(b) > 0 {
		resp, n, err := p.Parse(b)
		if err != nil {
			return got, err
		}
		got = append(got, want{resp.Status, string(resp.Body), resp.Close})
		b = b[n:]
	}
	return got, nil
}

var parseTests = []struct {
	name    string
	in      string
	want    []want
	wantErr string // the error after the responses in want; "" for none
}{
	{"hit", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", []want{{200, "hello", false}}, ""},
	{"miss", "HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nContent-Type: text/plain\r\n\r\nnot found", []want{{404, "not found", false}}, ""},
	{"no content", "HTTP/1.1 204 No Content\r\n\r\n", []want{{204, "", false}}, ""},
	{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", []want{{200, "", false}}, ""},
	{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", []want{{200, "x", false}}, ""},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", []want{{200, "hi", false}}, ""},
	{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", []want{{200, "hi", true}}, ""},
	{"pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nbc",
		[]want{{200, "a", false}, {404, "", false}, {200, "bc", false}}, ""},
	{"interim skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", []want{{200, "ok", false}}, ""},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		[]want{{200, "hello, world", false}, {204, "", false}}, ""},
	{"duplicate equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", []want{{200, "x", false}}, ""},
	{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", nil, ErrIncomplete.Error()},
	{"truncated head", "HTTP/1.1 200 OK\r\nContent-Len", nil, ErrIncomplete.Error()},
	{"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", nil, ErrIncomplete.Error()},
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
	{"after a good one", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 2x0 OK\r\n\r\n", []want{{200, "x", false}}, "malformed status code"},
}

func TestParse(t *testing.T) {
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAll(&Parser{}, tc.in)
			if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v, want no error", tc.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			if tc.wantErr == ErrIncomplete.Error() && err != ErrIncomplete {
				t.Fatalf("Parse(%q) error = %v, want ErrIncomplete itself", tc.in, err)
			}
		})
	}
}

// TestParsePrefixes feeds every good stream byte by byte, as a slow
// network would: every prefix short of a whole response must be
// ErrIncomplete, and the responses must come out the same.
func TestParsePrefixes(t *testing.T) {
	for _, tc := range parseTests {
		if tc.wantErr != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var got []want
			var buf []byte
			for i := 0; i < len(tc.in); i++ {
				buf = append(buf, tc.in[i])
				for len(buf) > 0 {
					resp, n, err := p.Parse(buf)
					if err == ErrIncomplete {
						break
					}
					if err != nil {
						t.Fatalf("Parse of %q after %d bytes: %v", buf, i+1, err)
					}
					got = append(got, want{resp.Status, string(resp.Body), resp.Close})
					buf = buf[n:]
				}
			}
			if !reflect.DeepEqual(got, tc.want) || len(buf) != 0 {
				t.Fatalf("byte by byte: %v with %q left, want %v", got, buf, tc.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	p := &Parser{MaxBody: 10}
	var pe *ParseError
	if _, _, err := p.Parse([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")); !errors.As(err, &pe) {
		t.Errorf("Parse of a body over MaxBody = %v, want a ParseError", err)
	}
	long := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxLine+1)
	if _, _, err := p.Parse([]byte(long)); !errors.As(err, &pe) || !strings.Contains(err.Error(), "line longer than") {
		t.Errorf("Parse of an endless header = %v, want a ParseError about its length", err)
	}
}

func TestParseAllocs(t *testing.T) {
	one := []byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("v", 100))
	var p Parser
	allocs := testing.AllocsPerRun(100, func() {
		if resp, n, err := p.Parse(one); err != nil || resp.Status != 200 || len(resp.Body) != 100 || n != len(one) {
			t.Fatalf("Parse() = %d %d bytes, %d, %v", resp.Status, len(resp.Body), n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %v times per response, want 0", allocs)
	}
}

// FuzzParse checks that Parse never panics, never takes more bytes than
// it has, and agrees with net/http on the responses both accept.
func FuzzParse(f *testing.F) {
	for _, tc := range parseTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		resp, n, err := (&Parser{}).Parse([]byte(s))
		if err != nil {
			return
		}
		if n <= 0 || n > len(s) {
			t.Fatalf("Parse took %d bytes of %d", n, len(s))
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
