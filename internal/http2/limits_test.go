package http2

import (
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func TestConcurrencyLimit(t *testing.T) {
	// h2spec 5.1.2: with window 0 every answer blocks and its stream stays
	// open; the stream beyond the limit is refused.
	h := newHarness(t, Config{MaxConcurrentStreams: 3}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	for id := uint32(1); id <= 7; id += 2 {
		h.request(id, "GET", "/get/k", true)
	}
	h.feed()
	for id := uint32(1); id <= 5; id += 2 {
		h.expect(xhttp2.FrameHeaders)
	}
	h.expectRST(7, xhttp2.ErrCodeRefusedStream)
	if st := h.srv.Stats(); st.Refused != 1 || st.Streams != 3 {
		t.Fatalf("stats %+v, want 3 streams, 1 refused", st)
	}
}

// TestSlotHook checks that a stream holds a concurrency slot from the end
// of its request until its answer is sent, and that a request without a
// slot waits while the connection goes on.
func TestSlotHook(t *testing.T) {
	slots, taken, released := 1, 0, 0
	cfg := Config{
		Acquire: func() bool {
			if taken-released >= slots {
				return false
			}
			taken++
			return true
		},
		Release: func() { released++ },
	}
	h := newHarness(t, cfg, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 2})
	h.request(1, "GET", "/get/k", true) // blocked after 2 bytes: holds the slot
	h.request(3, "GET", "/get/k", true) // waits for the slot
	h.request(5, "POST", "/store/a", false)
	h.feed()
	h.expect(xhttp2.FrameHeaders)
	h.readData(1, 2)
	h.expectNone()
	if !h.c.Waiting() || taken != 1 {
		t.Fatalf("Waiting() = %v, %d slots taken; want true, 1", h.c.Waiting(), taken)
	}
	h.cw.WriteData(5, false, []byte("body")) // the connection is still read
	h.cw.WriteWindowUpdate(1, 10)
	h.feed()
	if got, end := h.readData(1, 3); got != "llo" || !end {
		t.Fatalf("stream 1 rest %q", got)
	}
	h.expect(xhttp2.FrameHeaders) // stream 3 got the slot
	h.readData(3, 2)
	if h.c.Waiting() {
		t.Fatal("still waiting with the slot taken by stream 3")
	}
	// A reset gives the slot back; a connection error gives every slot back.
	h.cw.WriteRSTStream(3, xhttp2.ErrCodeCancel)
	h.cw.WriteData(5, true, nil)
	h.cw.WriteWindowUpdate(5, 10)
	h.feed()
	if r := h.response(5); r.status != "200" {
		t.Fatalf("stream 5 = %+v", r)
	}
	h.request(7, "GET", "/get/k", true)
	h.cw.WriteData(0, true, nil)
	h.feed()
	h.expect(xhttp2.FrameHeaders)
	h.readData(7, 2)
	h.expectGoAway(xhttp2.ErrCodeProtocol)
	if taken != 4 || released != 4 {
		t.Fatalf("taken %d, released %d; want 4 and 4", taken, released)
	}
}

// TestFloods checks that frames carrying no request end the connection
// with ENHANCE_YOUR_CALM once past the rate, and that state stays bounded.
func TestFloods(t *testing.T) {
	tests := []struct {
		name  string
		write func(h *harness, i int)
	}{
		{"PING", func(h *harness, i int) { h.cw.WritePing(false, [8]byte{}) }},
		{"SETTINGS", func(h *harness, i int) { h.cw.WriteSettings() }},
		{"empty DATA", func(h *harness, i int) {
			if i == 0 {
				h.request(1, "POST", "/store/x", false)
			}
			h.cw.WriteData(1, false, nil)
		}},
		{"rapid reset", func(h *harness, i int) {
			id := uint32(2*i + 1)
			h.request(id, "GET", "/get/k", false)
			h.cw.WriteRSTStream(id, xhttp2.ErrCodeCancel)
		}},
		{"PRIORITY", func(h *harness, i int) { h.cw.WritePriority(1, xhttp2.PriorityParam{StreamDep: 3}) }},
		{"unknown frames", func(h *harness, i int) { h.cw.WriteRawFrame(0x30, 0, 0, nil) }},
		{"empty CONTINUATION", func(h *harness, i int) {
			if i == 0 {
				h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(":method", "GET")})
			}
			h.cw.WriteContinuation(1, false, nil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{MaxControlRate: 100})
			for i := 0; i < 150; i++ {
				tc.write(h, i)
			}
			h.feed()
			var last xhttp2.Frame
			for f := h.next(); f != nil; f = h.next() {
				last = f
			}
			if g, ok := last.(*xhttp2.GoAwayFrame); !ok || g.ErrCode != xhttp2.ErrCodeEnhanceYourCalm {
				t.Fatalf("last frame %v, want GOAWAY ENHANCE_YOUR_CALM", last)
			}
			if len(h.c.streams) != 0 || h.in.Len() == 0 {
				t.Fatalf("%d streams left, %d input bytes left unread", len(h.c.streams), h.in.Len())
			}
		})
	}
	// The same rate spread over seconds is fine.
	h := newHarness(t, Config{MaxControlRate: 100})
	for i := 0; i < 5; i++ {
		for j := 0; j < 90; j++ {
			h.cw.WritePing(false, [8]byte{})
		}
		h.now = h.now.Add(time.Second)
		h.srv.SetTime(h.now, nil)
		h.feed()
	}
	if h.c.Done() {
		t.Fatal("closed at 90 PINGs a second, under the rate of 100")
	}
}

func TestContinuationFlood(t *testing.T) {
	h := newHarness(t, Config{MaxHeaderListSize: 1000})
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(":method", "GET")})
	pad := []byte(strings.Repeat("\x00", 100)) // not a valid block: it must never be decoded to the end
	for i := 0; i < 30; i++ {
		h.cw.WriteContinuation(1, false, pad)
	}
	h.feed()
	h.expectGoAway(xhttp2.ErrCodeEnhanceYourCalm)
}

func TestHPACKBombs(t *testing.T) {
	h := newHarness(t, Config{MaxHeaderListSize: 4096})
	// One 3 KB entry in the dynamic table, then referenced 100 times: a
	// 300 KB header list from a few hundred bytes.
	big := strings.Repeat("a", 3000)
	fields := []string{":method", "GET", ":scheme", "http", ":path", "/get/k"}
	for i := 0; i < 100; i++ {
		fields = append(fields, "x-big", big)
	}
	block := h.block(fields...)
	if len(block) > 4000 {
		t.Fatalf("block of %d bytes: the encoder did not index", len(block))
	}
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true})
	h.feed()
	if r := h.response(1); r.status != "431" {
		t.Fatalf("answer %+v, want 431", r)
	}
	if h.kv.served != 0 {
		t.Fatal("request over the header limit was served")
	}
	// HPACK stays in sync: the next request uses the table.
	if r := h.get(3, "/get/k"); r.body != "hello" {
		t.Fatalf("GET after 431 = %+v", r)
	}

	tests := []struct {
		name  string
		block []byte
	}{
		{"table size update over the limit", []byte{0x3f, 0xe1, 0xff, 0x03}},
		{"string longer than the limit", append([]byte{0x40, 0x7f, 0xff, 0xff, 0x03}, "x"...)},
		{"index out of range", []byte{0xff, 0x7f}},
		{"truncated", []byte{0x40, 0x05, 'a'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{MaxHeaderListSize: 4096})
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: tc.block, EndStream: true, EndHeaders: true})
			h.feed()
			h.expectGoAway(xhttp2.ErrCodeCompression)
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t, Config{MaxBodySize: 10})
	h.request(1, "POST", "/store/a", false, "content-length", "11")
	h.feed()
	if r := h.response(1); r.status != "413" || r.body != "value too large\n" {
		t.Fatalf("answer %+v, want 413", r)
	}
	h.expectRST(1, xhttp2.ErrCodeNo)
	h.cw.WriteData(1, true, []byte("01234567890")) // late DATA is dropped
	h.request(3, "POST", "/store/b", false)
	h.cw.WriteData(3, false, []byte("0123456"))
	h.cw.WriteData(3, true, []byte("7890"))
	h.feed()
	if r := h.response(3); r.status != "413" {
		t.Fatalf("answer %+v, want 413", r)
	}
	h.expectRST(3, xhttp2.ErrCodeNo)
	h.expectNone()
	if len(h.kv.m) != 1 || h.kv.served != 0 {
		t.Fatalf("store %v after refusals", h.kv.m)
	}
}

// TestStalledReaderBounded checks a peer that never opens its windows:
// answers beyond MaxBlocked wait unanswered, and memory stays bounded.
func TestStalledReaderBounded(t *testing.T) {
	h := newHarness(t, Config{MaxBlocked: 100 << 10}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	h.kv.m["v"] = make([]byte, 40<<10)
	for id := uint32(1); id < 200; id += 2 {
		h.request(id, "GET", "/get/v", true)
	}
	h.feed()
	headers := 0
	for f := h.next(); f != nil; f = h.next() {
		headers++
	}
	if headers != 3 || h.c.blockedBytes > 120<<10 {
		t.Fatalf("%d answers started, %d bytes held; want 3 and at most 120 KiB", headers, h.c.blockedBytes)
	}
	// Opening the windows lets everything through, in order.
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1 << 20})
	h.cw.WriteWindowUpdate(0, 1<<30)
	h.feed()
	n := 0
	for f := h.next(); f != nil; f = h.next() {
		switch f := f.(type) {
		case *xhttp2.DataFrame:
			if f.StreamEnded() {
				n++
			}
		case *xhttp2.MetaHeadersFrame:
			if f.StreamEnded() {
				n++
			}
		}
	}
	if n != 100 || len(h.c.streams) != 0 {
		t.Fatalf("%d answers completed, %d streams left; want 100 and 0", n, len(h.c.streams))
	}
}

func TestTimeouts(t *testing.T) {
	h := newHarness(t, Config{ReadTimeout: time.Second, IdleTimeout: time.Minute})
	h.request(1, "POST", "/store/a", false)
	h.feed()
	if d := h.c.Deadline(); !d.Equal(h.now.Add(time.Second)) {
		t.Fatalf("Deadline() = %v, want the read timeout %v", d, h.now.Add(time.Second))
	}
	h.sink.b = h.sink.b[:0]
	h.c.Expire(h.now.Add(time.Second), &h.sink)
	h.out.Write(h.sink.b)
	if r := h.response(1); r.status != "408" {
		t.Fatalf("answer %+v, want 408", r)
	}
	h.expectRST(1, xhttp2.ErrCodeNo)
	if h.c.Done() {
		t.Fatal("read timeout closed the connection")
	}
	if d := h.c.Deadline(); !d.Equal(h.now.Add(time.Minute)) {
		t.Fatalf("Deadline() = %v, want the idle timeout", d)
	}
	h.sink.b = h.sink.b[:0]
	h.c.Expire(h.now.Add(time.Minute), &h.sink)
	h.out.Write(h.sink.b)
	h.expectGoAway(xhttp2.ErrCodeNo)
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/a", false)
	h.feed()
	h.sink.b = h.sink.b[:0]
	h.c.Shutdown(&h.sink)
	h.out.Write(h.sink.b)
	if g := h.expect(xhttp2.FrameGoAway).(*xhttp2.GoAwayFrame); g.ErrCode != xhttp2.ErrCodeNo || g.LastStreamID != 1 {
		t.Fatalf("GOAWAY %v last %d, want NO_ERROR last 1", g.ErrCode, g.LastStreamID)
	}
	h.request(3, "GET", "/get/k", true) // after GOAWAY: ignored
	h.cw.WriteData(1, true, []byte("v"))
	h.feed()
	if r := h.response(1); r.status != "200" {
		t.Fatalf("stream 1 after GOAWAY: %+v", r)
	}
	h.expectNone()
	if !h.c.Done() {
		t.Fatal("not done after the last stream")
	}
}

func TestUpgrade(t *testing.T) {
	h := newConn(t, Config{})
	settings := []byte{0, 4, 0, 0, 0, 2} // INITIAL_WINDOW_SIZE 2
	if err := h.c.Upgrade(settings, "GET", "/get/k", nil, &h.sink); err != nil {
		t.Fatal(err)
	}
	out := string(h.sink.b)
	if !strings.HasPrefix(out, Switching) {
		t.Fatalf("output starts %q, want 101", out[:min(len(out), 40)])
	}
	h.out.WriteString(out[len(Switching):])
	h.sink.b = h.sink.b[:0]
	h.expectSettings()
	h.expect(xhttp2.FrameWindowUpdate)
	h.expect(xhttp2.FrameHeaders)
	h.expectNone() // DATA waits for the client preface; HTTP2-Settings is not acknowledged
	h.in.WriteString(Preface)
	h.cw.WriteSettings()
	h.feed()
	if f := h.expect(xhttp2.FrameSettings).(*xhttp2.SettingsFrame); !f.IsAck() {
		t.Fatal("no ACK of the client's SETTINGS")
	}
	if got, _ := h.readData(1, 2); got != "he" {
		t.Fatalf("stream 1 got %q within a window of 2", got)
	}
	h.expectNone()
	h.cw.WriteWindowUpdate(1, 100)
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 65535})
	h.feed()
	h.expect(xhttp2.FrameSettings)
	if got, end := h.readData(1, 3); got != "llo" || !end {
		t.Fatalf("rest of stream 1: %q", got)
	}
	if r := h.get(3, "/get/k"); r.body != "hello" {
		t.Fatalf("stream 3 = %+v", r)
	}

	c := h.srv.NewConn()
	var sink testSink
	if err := c.Upgrade([]byte{0, 2, 0, 0, 0, 2}, "GET", "/", nil, &sink); err != ErrSettings || len(sink.b) != 0 {
		t.Fatalf("Upgrade with ENABLE_PUSH 2 = %v, wrote %d bytes; want ErrSettings and nothing", err, len(sink.b))
	}
}

func TestHPACKTableSizeUpdate(t *testing.T) {
	h := newHarness(t, Config{})
	var buf strings.Builder
	enc := hpack.NewEncoder(&buf)
	enc.SetMaxDynamicTableSize(0)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/get/k"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte(buf.String()), EndStream: true, EndHeaders: true})
	h.feed()
	if r := h.response(1); r.body != "hello" {
		t.Fatalf("answer %+v", r)
	}
}
