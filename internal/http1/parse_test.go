package http1

import (
	"bytes"
	"strings"
	"testing"

	"github.com/corekv/corekv/api"
)

func TestParseHead(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Request // headLen is checked against the input's head
	}{
		{"get", "GET /get/a HTTP/1.1\r\nHost: x\r\n\r\n",
			Request{Method: "GET", Target: "/get/a", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"post with length", "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
			Request{Method: "POST", Target: "/store/k", Minor: 1, ContentLength: 5, KeepAlive: true}},
		{"duplicate equal lengths", "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
			Request{Method: "POST", Target: "/store/k", Minor: 1, ContentLength: 5, KeepAlive: true}},
		{"chunked", "POST /store/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n",
			Request{Method: "POST", Target: "/store/k", Minor: 1, ContentLength: -1, Chunked: true, KeepAlive: true}},
		{"close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1}},
		{"http10", "GET / HTTP/1.0\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 0, ContentLength: -1}},
		{"http 1.2 served as 1.1", "GET / HTTP/1.2\r\nHost: x\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"http 1.9 needs host and keeps alive as 1.1", "POST /store/k HTTP/1.9\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n",
			Request{Method: "POST", Target: "/store/k", Minor: 1, ContentLength: 1, KeepAlive: true, Expect100: true}},
		{"http10 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 0, ContentLength: -1, KeepAlive: true}},
		{"expect", "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n",
			Request{Method: "POST", Target: "/store/k", Minor: 1, ContentLength: 2000, KeepAlive: true, Expect100: true}},
		{"expect ignored in 1.0", "POST /store/k HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n",
			Request{Method: "POST", Target: "/store/k", Minor: 0, ContentLength: 1}},
		{"h2c upgrade", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true, UpgradeH2C: true, H2Settings: "AAMAAABkAAQAoAAAAAIAAAAA"}},
		{"upgrade without settings is plain", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"absolute form", "GET http://x/get/a HTTP/1.1\r\nHost: x\r\n\r\n",
			Request{Method: "GET", Target: "http://x/get/a", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"ipv6 host with port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: -1, KeepAlive: true}},
		{"value whitespace trimmed", "GET / HTTP/1.1\r\nHost:   x \t\r\nContent-Length:\t7 \r\n\r\n",
			Request{Method: "GET", Target: "/", Minor: 1, ContentLength: 7, KeepAlive: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			ok, p := ParseHead([]byte(tc.in), 16<<10, &r)
			if !ok || p != nil {
				t.Fatalf("ParseHead(%q) = %v, %v, want a request", tc.in, ok, p)
			}
			tc.want.HeadLen = strings.Index(tc.in, "\r\n\r\n") + 4
			if strings.HasPrefix(tc.in, "\r\n") {
				tc.want.HeadLen = strings.Index(tc.in[2:], "\r\n\r\n") + 6
			}
			if r != tc.want {
				t.Errorf("ParseHead(%q) = %+v, want %+v", tc.in, r, tc.want)
			}
		})
	}
}

func TestParseHeadRefusals(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name, in string
		want     *api.Problem
	}{
		{"no host", "GET / HTTP/1.1\r\n\r\n", errNoHost},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", errTwoHosts},
		{"two hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", errTwoHosts},
		{"host with angle brackets", "GET / HTTP/1.1\r\nHost: a<b>\r\n\r\n", errBadHost},
		{"host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", errBadHost},
		{"host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", errBadHost},
		{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", errBadHost},
		{"host in 1.0 checked", "GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n", errBadHost},
		{"bad version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", errBadLine},
		{"lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", errBadLine},
		{"long version", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", errBadLine},
		{"empty version", "GET / \r\nHost: x\r\n\r\n", errBadLine},
		{"four words", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", errBadLine},
		{"invalid connection preface", "INVALID CONNECTION PREFACE\r\n\r\n", ErrNotHTTP},
		{"other protocol", "GET / SPDY/3\r\nHost: x\r\n\r\n", ErrNotHTTP},
		{"short version word", "GET / HTTP\r\nHost: x\r\n\r\n", ErrNotHTTP},
		{"http2 line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", errVersion},
		{"http3 line", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", errVersion},
		{"http 0.9 version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", errVersion},
		{"preface line with a wrong tail", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", errVersion},
		{"http 0.9 form", "GET /\r\n\r\n", errBadLine},
		{"no target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", errBadLine},
		{"relative target", "GET a HTTP/1.1\r\nHost: x\r\n\r\n", errBadLine},
		{"bad method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", errBadLine},
		{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", errBadHeader},
		{"obs fold", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", errObsFold},
		{"nul in value", "GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n", errBadHeader},
		{"bare cr in value", "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", errBadHeader},
		{"bare lf in head", "GET / HTTP/1.1\nHost: x\r\n\r\n", errBareLF},
		{"bare lf incomplete", "GET / HTTP/1.1\nHost: x", errBareLF},
		{"negative length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", errBadLength},
		{"plus length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", errBadLength},
		{"list length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n", errBadLength},
		{"huge length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", errBadLength},
		{"conflicting lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", errTwoLengths},
		{"length and chunked", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", errLengthAndTE},
		{"chunked then length", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", errLengthAndTE},
		{"gzip coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", errTECoding},
		{"two te headers", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", errTECoding},
		{"te in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", errTE10},
		{"odd expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", errExpectation},
		{"line too long", long[:200], errLineTooLong},
		{"head too long", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("y", 300), errHeadersTooLong},
		{"complete line too long", long, errLineTooLong},
		{"complete head too long", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("y", 300) + "\r\n\r\n", errHeadersTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			ok, p := ParseHead([]byte(tc.in), 200, &r)
			if ok || p != tc.want {
				t.Errorf("ParseHead(%q) = %v, %v, want %v", tc.in, ok, p, tc.want)
			}
		})
	}
}

func TestParseHeadIncomplete(t *testing.T) {
	full := "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
	for i := 0; i < len(full); i++ {
		var r Request
		if ok, p := ParseHead([]byte(full[:i]), 16<<10, &r); ok || p != nil {
			t.Fatalf("ParseHead(%q) = %v, %v, want incomplete", full[:i], ok, p)
		}
	}
}

func TestScanChunked(t *testing.T) {
	// longExt is a one-byte chunk whose size line costs 3986 bytes more
	// than maxChunkOverhead's rule allows: four fit within it, five do not.
	longExt := "1;" + strings.Repeat("e", 4000) + "\r\nx\r\n"
	tests := []struct {
		name     string
		in       string
		max      int
		want     string // decoded body
		wantSpan int
		done     bool
		wantErr  *api.Problem
	}{
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 100, "hello world", 26, true, nil},
		{"extension", "5;a=b\r\nhello\r\n0\r\n\r\n", 100, "hello", 19, true, nil},
		{"trailer", "1\r\nx\r\n0\r\nX-T: 1\r\n\r\n", 100, "x", 19, true, nil},
		{"upper hex", "A\r\n0123456789\r\n0\r\n\r\n", 100, "0123456789", 20, true, nil},
		{"empty", "0\r\n\r\n", 100, "", 5, true, nil},
		{"incomplete data", "5\r\nhel", 100, "", 0, false, nil},
		{"incomplete trailer", "0\r\n", 100, "", 0, false, nil},
		{"too large", "65\r\n", 100, "", 0, false, api.ErrValueTooLarge},
		{"huge size", "fffffffffffffffff\r\n", 100, "", 0, false, errBadChunk},
		{"no size", "\r\nx\r\n", 100, "", 0, false, errBadChunk},
		{"bad size", "z\r\n", 100, "", 0, false, errBadChunk},
		{"bad extension", "1 x\r\nx\r\n0\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"missing crlf after data", "1\r\nxy0\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"bare lf size", "1\nx\r\n", 100, "", 0, false, errBadChunk},
		{"bad trailer", "0\r\nbad trailer\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"nul in extension", "1;\x00\r\nx\r\n0\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"longest size line", "1;" + strings.Repeat("e", maxChunkLine-4) + "\r\nx\r\n0\r\n\r\n", 100, "x", maxChunkLine + 8, true, nil},
		{"size line too long", "1;" + strings.Repeat("e", maxChunkLine-3) + "\r\nx\r\n0\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"size line too long unfinished", "1;" + strings.Repeat("e", maxChunkLine), 100, "", 0, false, errBadChunk},
		{"size line unfinished at the limit", "1;" + strings.Repeat("e", maxChunkLine-3), 100, "", 0, false, nil},
		{"trailer line too long", "0\r\nX: " + strings.Repeat("t", maxChunkLine) + "\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"longest trailer section", "0\r\nX: " + strings.Repeat("t", maxChunkLine-7) + "\r\n\r\n", 100, "", maxChunkLine + 3, true, nil},
		{"trailer section too long", "0\r\nX: " + strings.Repeat("t", maxChunkLine-6) + "\r\n\r\n", 100, "", 0, false, errBadChunk},
		{"trailer lines too many", "0\r\n" + strings.Repeat("X: "+strings.Repeat("t", 95)+"\r\n", 60) + "\r\n", 100, "", 0, false, errBadChunk},
		{"many one-byte chunks", strings.Repeat("1\r\nx\r\n", 50) + "0\r\n\r\n", 100, strings.Repeat("x", 50), 50*6 + 5, true, nil},
		{"extensions within overhead", strings.Repeat(longExt, 4) + "0\r\n\r\n", 100, "xxxx", 4*len(longExt) + 5, true, nil},
		{"extensions over overhead", strings.Repeat(longExt, 5) + "0\r\n\r\n", 100, "", 0, false, errChunkOverhead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size, span, done, p := scanChunked([]byte(tc.in), tc.max)
			if p != tc.wantErr || done != tc.done {
				t.Fatalf("scanChunked(%q) = done %v, %v; want done %v, %v", tc.in, done, p, tc.done, tc.wantErr)
			}
			if !done {
				return
			}
			if span != tc.wantSpan || size != len(tc.want) {
				t.Fatalf("scanChunked(%q) = size %d span %d, want %d %d", tc.in, size, span, len(tc.want), tc.wantSpan)
			}
			got := make([]byte, size)
			decodeChunked([]byte(tc.in), got)
			if string(got) != tc.want {
				t.Errorf("decodeChunked(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzParseHead(f *testing.F) {
	f.Add([]byte("GET /get/a HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /store/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Request
		ok, p := ParseHead(in, 4096, &r)
		if ok && p != nil {
			t.Fatalf("ParseHead(%q) = ok with problem %v", in, p)
		}
		if !ok {
			return
		}
		if r.HeadLen > len(in) || !bytes.Equal(in[r.HeadLen-4:r.HeadLen], crlfcrlf) {
			t.Fatalf("ParseHead(%q): headLen %d does not end the head", in, r.HeadLen)
		}
		if r.Chunked && r.ContentLength >= 0 {
			t.Fatalf("ParseHead(%q): both chunked and Content-Length accepted", in)
		}
		size, span, done, _ := scanChunked(in[r.HeadLen:], 1<<20)
		if done {
			if span > len(in)-r.HeadLen || size > span {
				t.Fatalf("scanChunked(%q) = size %d span %d beyond input", in[r.HeadLen:], size, span)
			}
			decodeChunked(in[r.HeadLen:], make([]byte, size))
		}
	})
}

func TestOrigin(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"origin form", "/get/k", "/get/k"},
		{"absolute form", "http://example.com/get/k", "/get/k"},
		{"absolute form https upper case", "HTTPS://example.com/get/k?x", "/get/k?x"},
		{"absolute form with port", "http://example.com:8080/stats", "/stats"},
		{"absolute form without path", "http://example.com", "/"},
		{"absolute form query without path", "http://example.com?x", "/?x"},
		{"asterisk", "*", "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Request{Target: tc.in}
			if got := r.Origin(); got != tc.want {
				t.Errorf("Request{Target: %q}.Origin() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFrameBodyCapsUnfinishedChunked checks the 413 the loop depends on: an
// unfinished chunked body that already spans more than MaxBodySpan is
// refused, however little it decodes to.
func TestFrameBodyCapsUnfinishedChunked(t *testing.T) {
	r := Request{Chunked: true, ContentLength: -1}
	const maxValue = 4096
	// 21 bytes of input per byte of data: within scanChunked's overhead
	// rule, and far from maxValue when MaxBodySpan is reached.
	var in []byte
	for len(in) <= MaxBodySpan(maxValue) {
		in = append(in, "1;a=bbbbbbbbbbbb\r\nx\r\n"...)
	}
	below := in[:MaxBodySpan(maxValue)]
	if _, _, done, p := FrameBody(&r, below, maxValue); done || p != nil {
		t.Fatalf("FrameBody(%d bytes of small chunks) = done %v, %v; want unfinished", len(below), done, p)
	}
	if _, _, _, p := FrameBody(&r, in, maxValue); p != api.ErrValueTooLarge {
		t.Errorf("FrameBody(%d bytes of small chunks) = %v, want %v", len(in), p, api.ErrValueTooLarge)
	}
}
