package shard

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
)

// h2Raw is a frame-level HTTP/2 client, to see what the loop engine sends.
type h2Raw struct {
	t   *testing.T
	c   net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

// dialH2 opens an HTTP/2 connection by prior knowledge with settings and
// reads the server's preface frames up to the ACK of ours.
func dialH2(t *testing.T, addr string, settings ...http2.Setting) *h2Raw {
	t.Helper()
	h := &h2Raw{t: t, c: dial(t, addr)}
	h.c.SetDeadline(time.Now().Add(patience))
	io.WriteString(h.c, http1.Preface)
	h.fr = http2.NewFramer(h.c, h.c)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.fr.AllowIllegalWrites = true
	h.enc = hpack.NewEncoder(&h.buf)
	h.fr.WriteSettings(settings...)
	for {
		if s, ok := h.next().(*http2.SettingsFrame); ok && s.IsAck() {
			return h
		}
	}
}

func (h *h2Raw) next() http2.Frame {
	h.t.Helper()
	f, err := h.fr.ReadFrame()
	if err != nil {
		h.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

// request sends a request's HEADERS.
func (h *h2Raw) request(id uint32, method, path string, end bool) {
	h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.headerBlock(method, path), EndStream: end, EndHeaders: true})
}

// headerBlock encodes a request's header fields with the connection's
// encoder; the block is valid until the next call.
func (h *h2Raw) headerBlock(method, path string) []byte {
	h.buf.Reset()
	for _, f := range [][2]string{{":method", method}, {":scheme", "http"}, {":path", path}, {":authority", "x"}} {
		h.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return h.buf.Bytes()
}

func (h *h2Raw) get(id uint32, path string) { h.request(id, "GET", path, true) }

// expectHeaders reads stream id's response HEADERS and returns its status.
func (h *h2Raw) expectHeaders(id uint32) string {
	h.t.Helper()
	for {
		switch f := h.next().(type) {
		case *http2.MetaHeadersFrame:
			if f.StreamID != id {
				h.t.Fatalf("HEADERS on stream %d, want %d", f.StreamID, id)
			}
			return f.PseudoValue("status")
		case *http2.WindowUpdateFrame, *http2.PingFrame, *http2.SettingsFrame:
		default:
			h.t.Fatalf("got %v, want HEADERS", f.Header())
		}
	}
}

// readBody reads stream id's DATA up to END_STREAM.
func (h *h2Raw) readBody(id uint32) string {
	h.t.Helper()
	var b strings.Builder
	for {
		switch f := h.next().(type) {
		case *http2.DataFrame:
			if f.StreamID != id {
				h.t.Fatalf("DATA on stream %d, want %d", f.StreamID, id)
			}
			b.Write(f.Data())
			if f.StreamEnded() {
				return b.String()
			}
		case *http2.WindowUpdateFrame, *http2.PingFrame, *http2.SettingsFrame:
		default:
			h.t.Fatalf("got %v, want DATA", f.Header())
		}
	}
}

// TestLoopH2ConcurrencyLimit checks that an HTTP/2 stream holds a slot of
// the shard's concurrency limit until its answer is sent, that requests
// beyond the limit wait (none is refused), and that HTTP/1 requests wait
// for the same slots.
func TestLoopH2ConcurrencyLimit(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop, ConcurrencyLimit: 2}, 1)
	h := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	for id := uint32(1); id <= 7; id += 2 {
		h.get(id, "/")
	}
	h.expectHeaders(1)
	h.expectHeaders(3)
	c := dial(t, ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	expectNoAnswer(t, c) // parked: both slots are held by blocked streams
	if st := ts.g.Stats().Shards[0]; st.InFlight != 2 {
		t.Fatalf("in_flight %d, want 2", st.InFlight)
	}
	h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535})
	answered := map[uint32]string{}
	for len(answered) < 4 {
		switch f := h.next().(type) {
		case *http2.DataFrame:
			answered[f.StreamID] += string(f.Data())
		case *http2.MetaHeadersFrame:
			if f.PseudoValue("status") != "200" {
				t.Fatalf("stream %d: status %s", f.StreamID, f.PseudoValue("status"))
			}
		}
	}
	for id, body := range answered {
		if body != api.Hello {
			t.Errorf("stream %d: %q", id, body)
		}
	}
	c.SetReadDeadline(time.Now().Add(patience))
	if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 {
		t.Fatalf("parked HTTP/1 request: %d", resp.StatusCode)
	}
	if st := ts.g.Stats().Shards[0]; st.H2Refused != 0 || st.H2Streams != 4 {
		t.Errorf("h2_streams %d, h2_refused %d; want 4 and 0", st.H2Streams, st.H2Refused)
	}
}

// TestLoopH2Drain checks the graceful shutdown of an HTTP/2 connection:
// GOAWAY(NO_ERROR) naming the last stream, the open stream answered, then
// the connection closed and Serve returning.
func TestLoopH2Drain(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop}, 1)
	h := dialH2(t, ts.addr)
	h.request(1, "POST", "/store/d", false)
	h.fr.WritePing(false, [8]byte{1}) // the stream is open once the PING is answered
	for {
		if p, ok := h.next().(*http2.PingFrame); ok && p.IsAck() {
			break
		}
	}
	ts.stop()
	g, ok := h.next().(*http2.GoAwayFrame)
	if !ok || g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
		t.Fatalf("got %v, want GOAWAY NO_ERROR last stream 1", g)
	}
	h.fr.WriteData(1, true, []byte("drained"))
	if s := h.expectHeaders(1); s != "200" {
		t.Fatalf("stream 1 after GOAWAY: %s", s)
	}
	h.readBody(1)
	if _, err := h.fr.ReadFrame(); err != io.EOF {
		t.Fatalf("after the last answer: %v, want EOF", err)
	}
	if err := <-ts.done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ts.done <- nil // for the cleanup
	if v, _, _ := ts.store.Get(nil, []byte("d")); string(v) != "drained" {
		t.Errorf("stored %q", v)
	}
}

// TestLoopH2Timeouts checks that an idle HTTP/2 connection gets GOAWAY and
// is closed, and that a stream whose request does not finish gets 408.
func TestLoopH2Timeouts(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop, ReadTimeout: 300 * time.Millisecond, IdleTimeout: time.Second}, 1)
	h := dialH2(t, ts.addr)
	h.request(1, "POST", "/store/slow", false)
	if s := h.expectHeaders(1); s != "408" {
		t.Fatalf("unfinished stream: %s, want 408", s)
	}
	h.readBody(1)
	if r, ok := h.next().(*http2.RSTStreamFrame); !ok || r.ErrCode != http2.ErrCodeNo {
		t.Fatalf("got %v, want RST_STREAM NO_ERROR", r)
	}
	if g, ok := h.next().(*http2.GoAwayFrame); !ok || g.ErrCode != http2.ErrCodeNo {
		t.Fatalf("idle connection got %v, want GOAWAY", g)
	}
	if _, err := h.fr.ReadFrame(); err != io.EOF {
		t.Fatalf("after GOAWAY: %v, want EOF", err)
	}
	waitOpen(t, ts.addr, 0)
}

// TestLoopH2Stats checks the HTTP/2 counters of /stats.
func TestLoopH2Stats(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop}, 1)
	h := dialH2(t, ts.addr)
	h.request(1, "POST", "/store/x", false)
	h.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	h.get(3, "/")
	h.expectHeaders(3)
	h.readBody(3)
	h.fr.WriteData(0, true, nil) // a connection error
	if g, ok := h.next().(*http2.GoAwayFrame); !ok || g.ErrCode != http2.ErrCodeProtocol {
		t.Fatalf("got %v, want GOAWAY PROTOCOL_ERROR", g)
	}
	st := ts.g.Stats().Shards[0]
	if st.H2Streams != 2 || st.H2Resets != 1 || st.H2Errors != 1 || st.Requests != 1 {
		t.Errorf("stats %+v; want 2 streams, 1 reset, 1 error, 1 request", st)
	}
}

// TestH2Load drives the loop engine with nghttp2's h2load, many streams
// per connection, and checks that every request succeeded.
func TestH2Load(t *testing.T) {
	h2load := lookTool(t, "h2load", "nghttp2-client")
	ts := start(t, Config{Engine: EngineLoop}, 1)
	ts.store.Set([]byte("k"), bytes.Repeat([]byte("v"), 100), 0)
	out, err := exec.Command(h2load, "-n", "10000", "-c", "4", "-m", "10", "http://"+ts.addr+"/get/k").CombinedOutput()
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`requests: 10000 total, \d+ started, 10000 done, 10000 succeeded, 0 failed, 0 errored`).Find(out)
	if m == nil || !bytes.Contains(out, []byte("status codes: 10000 2xx")) {
		t.Fatalf("h2load did not get 10000 answers of 200:\n%s", out)
	}
}

// lookTool finds an external tool, which CI must have (scripts/test.sh
// installs it) and a developer's machine may lack.
func lookTool(t *testing.T, name, how string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; scripts/test.sh installs it (%s)", name, how)
		}
		t.Skipf("%s is not installed (%s)", name, how)
	}
	return p
}
