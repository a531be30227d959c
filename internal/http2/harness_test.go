package http2

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/api"
)

// testSink is a Sink that copies referenced values when they are added, and
// counts them.
type testSink struct {
	b      []byte
	values int
}

func (s *testSink) Buffer() *[]byte { return &s.b }
func (s *testSink) Value(v []byte)  { s.b = append(s.b, v...); s.values++ }
func (s *testSink) Len() int        { return len(s.b) }

// kv is the stand-in API: GET/HEAD /get/{key}, POST/PUT/DELETE /store/{key}.
type kv struct {
	m      map[string][]byte
	served int
}

func (k *kv) serve(req *api.Request) api.Result {
	k.served++
	key, isGet := strings.CutPrefix(req.Target, "/get/")
	if !isGet {
		key, _ = strings.CutPrefix(req.Target, "/store/")
	}
	switch {
	case isGet && (req.Method == "GET" || req.Method == "HEAD"):
		v, ok := k.m[key]
		if !ok {
			return api.Refusal(api.ErrNoKey)
		}
		return api.Result{Status: 200, ContentType: api.TypeValue, Value: v, Head: req.Method == "HEAD"}
	case !isGet && (req.Method == "POST" || req.Method == "PUT"):
		v, err := req.Body.Value(1 << 20)
		if err != nil {
			return api.Refusal(api.ErrValueTooLarge)
		}
		k.m[key] = v
		return api.Result{Status: 200, ContentType: api.TypeText, Text: api.Stored}
	case !isGet && req.Method == "DELETE":
		delete(k.m, key)
		return api.Result{Status: 204}
	}
	res := api.Refusal(api.ErrMethod)
	res.Allow = "GET, HEAD"
	return res
}

// harness drives a Conn with x/net's Framer as the client.
type harness struct {
	t    *testing.T
	kv   *kv
	srv  *Server
	c    *Conn
	now  time.Time
	in   bytes.Buffer // client bytes not yet used by the server
	cw   *xhttp2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
	out  bytes.Buffer // server bytes not yet read by the client
	cr   *xhttp2.Framer
	sink testSink
}

func newConn(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, kv: &kv{m: map[string][]byte{"k": []byte("hello")}}, now: time.Unix(1e9, 0)}
	if cfg.Serve == nil {
		cfg.Serve = h.kv.serve
	}
	h.srv = NewServer(cfg)
	h.srv.SetTime(h.now, []byte("Sun, 09 Sep 2001 01:46:40 GMT"))
	h.c = h.srv.NewConn()
	h.cw = xhttp2.NewFramer(&h.in, nil)
	h.cw.AllowIllegalWrites = true
	h.cr = xhttp2.NewFramer(nil, &h.out)
	h.cr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.cr.SetMaxReadFrameSize(1 << 24)
	h.enc = hpack.NewEncoder(&h.hbuf)
	return h
}

// newHarness returns a connection past the preface and SETTINGS exchange.
func newHarness(t *testing.T, cfg Config, settings ...xhttp2.Setting) *harness {
	t.Helper()
	h := newConn(t, cfg)
	h.in.WriteString(Preface)
	h.cw.WriteSettings(settings...)
	h.feed()
	h.expectSettings()
	wu := h.expect(xhttp2.FrameWindowUpdate).(*xhttp2.WindowUpdateFrame)
	if wu.StreamID != 0 || wu.Increment != connWindow-65535 {
		t.Fatalf("WINDOW_UPDATE %d +%d, want 0 +%d", wu.StreamID, wu.Increment, connWindow-65535)
	}
	if f := h.expect(xhttp2.FrameSettings).(*xhttp2.SettingsFrame); !f.IsAck() {
		t.Fatal("second SETTINGS is not an ACK")
	}
	return h
}

// expectSettings reads our SETTINGS and checks what it advertises.
func (h *harness) expectSettings() {
	h.t.Helper()
	f := h.expect(xhttp2.FrameSettings).(*xhttp2.SettingsFrame)
	if v, ok := f.Value(xhttp2.SettingMaxConcurrentStreams); !ok || v != h.srv.cfg.MaxConcurrentStreams {
		h.t.Fatalf("MAX_CONCURRENT_STREAMS = %d, %v; want %d", v, ok, h.srv.cfg.MaxConcurrentStreams)
	}
	if _, ok := f.Value(xhttp2.SettingMaxFrameSize); ok {
		h.t.Fatal("MAX_FRAME_SIZE advertised")
	}
}

// feed gives the server all pending client bytes, as one read.
func (h *harness) feed() {
	h.t.Helper()
	h.sink.b = h.sink.b[:0]
	for {
		n := h.c.Feed(h.in.Bytes(), &h.sink)
		h.in.Next(n)
		h.out.Write(h.sink.b)
		h.sink.b = h.sink.b[:0]
		if !h.c.Busy() && (n == 0 || h.in.Len() < 9) {
			return
		}
	}
}

// next reads the next server frame, or returns nil when there is none.
func (h *harness) next() xhttp2.Frame {
	h.t.Helper()
	f, err := h.cr.ReadFrame()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("reading server frame: %v", err)
	}
	return f
}

// expect reads the next server frame and checks its type.
func (h *harness) expect(t xhttp2.FrameType) xhttp2.Frame {
	h.t.Helper()
	f := h.next()
	if f == nil {
		h.t.Fatalf("no frame, want %v", t)
	}
	if f.Header().Type != t {
		h.t.Fatalf("got %v, want %v", summarize(f), t)
	}
	return f
}

// expectNone checks that the server sent nothing more.
func (h *harness) expectNone() {
	h.t.Helper()
	if f := h.next(); f != nil {
		h.t.Fatalf("unexpected %v", summarize(f))
	}
}

// expectGoAway checks that the next frame is GOAWAY with code, and that
// the connection is done.
func (h *harness) expectGoAway(code xhttp2.ErrCode) {
	h.t.Helper()
	f := h.expect(xhttp2.FrameGoAway).(*xhttp2.GoAwayFrame)
	if f.ErrCode != code {
		h.t.Fatalf("GOAWAY %v (%q), want %v", f.ErrCode, f.DebugData(), code)
	}
	if !h.c.Done() {
		h.t.Fatal("connection not done after GOAWAY")
	}
}

// expectRST checks that the next frame resets stream id with code.
func (h *harness) expectRST(id uint32, code xhttp2.ErrCode) {
	h.t.Helper()
	f := h.expect(xhttp2.FrameRSTStream).(*xhttp2.RSTStreamFrame)
	if f.StreamID != id || f.ErrCode != code {
		h.t.Fatalf("RST_STREAM %d %v, want %d %v", f.StreamID, f.ErrCode, id, code)
	}
}

func summarize(f xhttp2.Frame) string {
	switch f := f.(type) {
	case *xhttp2.GoAwayFrame:
		return "GOAWAY " + f.ErrCode.String() + " " + string(f.DebugData())
	case *xhttp2.RSTStreamFrame:
		return "RST_STREAM " + f.ErrCode.String()
	}
	return f.Header().String()
}

// block encodes header fields as name, value pairs.
func (h *harness) block(fields ...string) []byte {
	h.hbuf.Reset()
	for i := 0; i < len(fields); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(h.hbuf.Bytes())
}

// request sends a request's HEADERS frame.
func (h *harness) request(id uint32, method, path string, end bool, extra ...string) {
	fields := append([]string{":method", method, ":scheme", "http", ":path", path, ":authority", "x"}, extra...)
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, BlockFragment: h.block(fields...), EndStream: end, EndHeaders: true})
}

// response is an answer as the client read it.
type response struct {
	status string
	fields map[string]string
	body   string
}

// response reads stream id's answer, which must come next.
func (h *harness) response(id uint32) response {
	h.t.Helper()
	f := h.next()
	if f == nil {
		h.t.Fatalf("stream %d: no answer", id)
	}
	mh, ok := f.(*xhttp2.MetaHeadersFrame)
	if !ok || mh.StreamID != id {
		h.t.Fatalf("stream %d: got %v, want HEADERS", id, summarize(f))
	}
	r := response{status: mh.PseudoValue("status"), fields: map[string]string{}}
	for _, hf := range mh.RegularFields() {
		r.fields[hf.Name] = hf.Value
	}
	end := mh.StreamEnded()
	for !end {
		d, ok := h.next().(*xhttp2.DataFrame)
		if !ok || d.StreamID != id {
			h.t.Fatalf("stream %d: want DATA", id)
		}
		r.body += string(d.Data())
		end = d.StreamEnded()
	}
	return r
}

// get sends a GET and returns its answer.
func (h *harness) get(id uint32, path string) response {
	h.t.Helper()
	h.request(id, "GET", path, true)
	h.feed()
	return h.response(id)
}
