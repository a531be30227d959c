package http2

import (
	"fmt"
	"strings"
	"testing"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

func TestGet(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.get(1, "/get/k")
	if r.status != "200" || r.body != "hello" || r.fields["content-length"] != "5" ||
		r.fields["content-type"] != "application/octet-stream" || r.fields["date"] != "Sun, 09 Sep 2001 01:46:40 GMT" {
		t.Fatalf("GET /get/k = %+v", r)
	}
	if r := h.get(3, "/get/nope"); r.status != "404" || r.body != api.ErrNoKey.Msg+"\n" {
		t.Fatalf("GET /get/nope = %+v", r)
	}
	h.request(5, "HEAD", "/get/k", true)
	h.feed()
	if r := h.response(5); r.status != "200" || r.body != "" || r.fields["content-length"] != "5" {
		t.Fatalf("HEAD /get/k = %+v", r)
	}
	h.request(7, "DELETE", "/store/k", true)
	h.feed()
	if r := h.response(7); r.status != "204" || r.fields["content-length"] != "" {
		t.Fatalf("DELETE = %+v", r)
	}
	h.expectNone()
	if st := h.srv.Stats(); st.Streams != 4 {
		t.Errorf("Stats().Streams = %d, want 4", st.Streams)
	}
}

func TestResponseFields(t *testing.T) {
	long := strings.Repeat("x", 40000)
	tests := []struct {
		name string
		res  api.Result
		want response
	}{
		{"405", func() api.Result { r := api.Refusal(api.ErrMethod); r.Allow = "GET, HEAD"; return r }(),
			response{status: "405", body: "method not allowed\n", fields: map[string]string{"allow": "GET, HEAD", "content-length": "19", "content-type": api.TypeText}}},
		{"507", api.Refusal(api.ErrStoreFull),
			response{status: "507", body: api.ErrStoreFull.Msg + "\n", fields: map[string]string{"content-type": api.TypeText, "content-length": fmt.Sprint(len(api.ErrStoreFull.Msg) + 1)}}},
		{"text", api.Result{Status: 200, ContentType: api.TypeText, Text: api.Hello},
			response{status: "200", body: api.Hello, fields: map[string]string{"content-type": api.TypeText, "content-length": fmt.Sprint(len(api.Hello))}}},
		{"long value", api.Result{Status: 200, Value: []byte(long)},
			response{status: "200", body: long, fields: map[string]string{"content-length": "40000"}}},
		{"empty value", api.Result{Status: 200, ContentType: api.TypeValue, Value: []byte{}},
			response{status: "200", fields: map[string]string{"content-length": "0", "content-type": api.TypeValue}}},
		{"head", api.Result{Status: 200, Value: []byte("abc"), Head: true},
			response{status: "200", fields: map[string]string{"content-length": "3"}}},
		{"max-age", api.Result{Status: 200, ContentType: api.TypeValue, Value: []byte("v"), MaxAge: 90},
			response{status: "200", body: "v", fields: map[string]string{"content-type": api.TypeValue, "content-length": "1", "cache-control": "max-age=90"}}},
		{"204", api.Result{Status: 204},
			response{status: "204", fields: map[string]string{}}},
		{"other status", api.Refusal(api.ErrKeyTooLong),
			response{status: "414", body: "key too long\n", fields: map[string]string{"content-type": api.TypeText, "content-length": "13"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Serve: func(*api.Request) api.Result { return tc.res }})
			h.srv.SetTime(h.now, nil)
			h.request(1, "GET", "/", true)
			h.feed()
			got := h.response(1)
			if got.status != tc.want.status || got.body != tc.want.body || len(got.fields) != len(tc.want.fields) {
				t.Fatalf("answer = %+v, want %+v", got, tc.want)
			}
			for k, v := range tc.want.fields {
				if got.fields[k] != v {
					t.Errorf("%s = %q, want %q", k, got.fields[k], v)
				}
			}
		})
	}
}

func TestPostBody(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/a", false, "content-length", "11")
	h.cw.WriteData(1, false, []byte("hello "))
	h.cw.WriteDataPadded(1, true, []byte("world"), make([]byte, 7))
	h.feed()
	if r := h.response(1); r.status != "200" || r.body != "OK\n" {
		t.Fatalf("POST = %+v", r)
	}
	if r := h.get(3, "/get/a"); r.body != "hello world" {
		t.Fatalf("stored %q, want %q", r.body, "hello world")
	}
	// Without content-length, END_STREAM delimits the body.
	h.request(5, "PUT", "/store/b", false)
	h.cw.WriteData(5, true, []byte("xyz"))
	h.feed()
	if r := h.response(5); r.status != "200" || string(h.kv.m["b"]) != "xyz" {
		t.Fatalf("PUT = %+v, stored %q", r, h.kv.m["b"])
	}
}

func TestContentLengthMismatch(t *testing.T) {
	tests := []struct {
		name   string
		length string
		data   []string
	}{
		{"more data", "1", []string{"abcd"}},
		{"less data", "5", []string{"ab"}},
		{"more over frames", "3", []string{"ab", "cd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.request(1, "POST", "/store/x", false, "content-length", tc.length)
			for i, d := range tc.data {
				h.cw.WriteData(1, i == len(tc.data)-1, []byte(d))
			}
			h.feed()
			h.expectRST(1, xhttp2.ErrCodeProtocol)
			if _, ok := h.kv.m["x"]; ok || h.kv.served != 0 {
				t.Fatal("malformed request was served")
			}
		})
	}
}

func TestMalformedHeaders(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
	}{
		{"uppercase name", []string{":method", "GET", ":scheme", "http", ":path", "/", "X-Up", "1"}},
		{"connection", []string{":method", "GET", ":scheme", "http", ":path", "/", "connection", "keep-alive"}},
		{"keep-alive", []string{":method", "GET", ":scheme", "http", ":path", "/", "keep-alive", "1"}},
		{"transfer-encoding", []string{":method", "GET", ":scheme", "http", ":path", "/", "transfer-encoding", "chunked"}},
		{"upgrade", []string{":method", "GET", ":scheme", "http", ":path", "/", "upgrade", "h2c"}},
		{"te gzip", []string{":method", "GET", ":scheme", "http", ":path", "/", "te", "gzip"}},
		{"unknown pseudo", []string{":method", "GET", ":scheme", "http", ":path", "/", ":foo", "x"}},
		{"response pseudo", []string{":method", "GET", ":scheme", "http", ":path", "/", ":status", "200"}},
		{"pseudo after regular", []string{":method", "GET", ":scheme", "http", "x", "1", ":path", "/"}},
		{"no method", []string{":scheme", "http", ":path", "/"}},
		{"no scheme", []string{":method", "GET", ":path", "/"}},
		{"no path", []string{":method", "GET", ":scheme", "http"}},
		{"empty path", []string{":method", "GET", ":scheme", "http", ":path", ""}},
		{"two methods", []string{":method", "GET", ":method", "GET", ":scheme", "http", ":path", "/"}},
		{"two paths", []string{":method", "GET", ":scheme", "http", ":path", "/", ":path", "/"}},
		{"value with LF", []string{":method", "GET", ":scheme", "http", ":path", "/", "x", "a\nb"}},
		{"bad content-length", []string{":method", "GET", ":scheme", "http", ":path", "/", "content-length", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(tc.fields...), EndStream: true, EndHeaders: true})
			h.feed()
			h.expectRST(1, xhttp2.ErrCodeProtocol)
			if h.kv.served != 0 {
				t.Fatal("malformed request was served")
			}
			// The connection and its HPACK state carry on.
			if r := h.get(3, "/get/k"); r.body != "hello" {
				t.Fatalf("next GET = %+v", r)
			}
		})
	}
}

func TestTrailers(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/t", false, "te", "trailers")
	h.cw.WriteData(1, false, []byte("body"))
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block("x-sum", "1"), EndStream: true, EndHeaders: true})
	h.feed()
	if r := h.response(1); r.status != "200" || string(h.kv.m["t"]) != "body" {
		t.Fatalf("POST with trailers = %+v", r)
	}
	// Trailers without END_STREAM, or with pseudo-headers, are malformed.
	h.request(3, "POST", "/store/t", false)
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: h.block("x-sum", "1"), EndHeaders: true})
	h.request(5, "POST", "/store/t", false)
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 5, BlockFragment: h.block(":path", "/"), EndStream: true, EndHeaders: true})
	h.feed()
	h.expectRST(3, xhttp2.ErrCodeProtocol)
	h.expectRST(5, xhttp2.ErrCodeProtocol)
}

func TestPing(t *testing.T) {
	h := newHarness(t, Config{})
	h.cw.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	h.cw.WritePing(true, [8]byte{9})
	h.feed()
	p := h.expect(xhttp2.FramePing).(*xhttp2.PingFrame)
	if !p.IsAck() || p.Data != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("PING answer %v %v", p.IsAck(), p.Data)
	}
	h.expectNone()
}

func TestFrameTooLargeFromHeader(t *testing.T) {
	h := newHarness(t, Config{})
	h.in.Write([]byte{0, 0x40, 0x01, byte(xhttp2.FrameHeaders), 0x4, 0, 0, 0, 1}) // 16385 bytes announced
	h.feed()
	h.expectGoAway(xhttp2.ErrCodeFrameSize)
}

func TestPreface(t *testing.T) {
	h := newConn(t, Config{})
	h.in.WriteString(Preface[:10])
	h.feed()
	h.expectNone()
	if h.in.Len() != 10 {
		t.Fatalf("partial preface consumed: %d left", h.in.Len())
	}
	h.in.WriteString("XXXXXXXXXXXXXXXXXXXXXXXX")
	h.feed()
	h.next() // our SETTINGS
	h.next() // WINDOW_UPDATE
	h.expectGoAway(xhttp2.ErrCodeProtocol)
}

func TestFirstFrameMustBeSettings(t *testing.T) {
	h := newConn(t, Config{})
	h.in.WriteString(Preface)
	h.cw.WritePing(false, [8]byte{})
	h.feed()
	h.next()
	h.next()
	h.expectGoAway(xhttp2.ErrCodeProtocol)
}
