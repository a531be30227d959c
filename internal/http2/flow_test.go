package http2

import (
	"bytes"
	"strings"
	"testing"

	xhttp2 "golang.org/x/net/http2"
)

// readData reads DATA frames of stream id until n bytes or END_STREAM.
func (h *harness) readData(id uint32, n int) (string, bool) {
	h.t.Helper()
	var b strings.Builder
	for b.Len() < n {
		d := h.expect(xhttp2.FrameData).(*xhttp2.DataFrame)
		if d.StreamID != id {
			h.t.Fatalf("DATA on stream %d, want %d", d.StreamID, id)
		}
		b.Write(d.Data())
		if d.StreamEnded() {
			return b.String(), true
		}
	}
	return b.String(), false
}

func TestSendFlowControl(t *testing.T) {
	h := newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	big := bytes.Repeat([]byte("0123456789"), 10000)
	h.kv.m["big"] = big
	h.request(1, "GET", "/get/big", true)
	h.feed()
	h.expect(xhttp2.FrameHeaders)
	h.expectNone() // stream window 0
	h.cw.WriteWindowUpdate(1, 3)
	h.feed()
	if got, _ := h.readData(1, 3); got != "012" {
		t.Fatalf("after +3: %q", got)
	}
	// A negative window must be earned back before anything is sent.
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	h.feed()
	h.expect(xhttp2.FrameSettings)
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 100000})
	h.feed()
	h.expect(xhttp2.FrameSettings)
	// Stream window is 100000-0+... the connection's (65535-3) limits now.
	got, end := h.readData(1, 65532)
	if len(got) != 65532 || end {
		t.Fatalf("sent %d bytes (end %v), want the connection window's 65532", len(got), end)
	}
	h.expectNone()
	h.cw.WriteWindowUpdate(0, 1<<20)
	h.feed()
	rest, end := h.readData(1, len(big))
	if !end || "012"+got+rest != string(big) {
		t.Fatalf("body differs: %d bytes, end %v", 3+len(got)+len(rest), end)
	}
}

func TestNegativeWindow(t *testing.T) {
	h := newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 3})
	h.request(1, "GET", "/get/k", true)
	h.feed()
	h.expect(xhttp2.FrameHeaders)
	h.readData(1, 3)
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1}) // window now -2
	h.cw.WriteWindowUpdate(1, 2)                                                    // 0
	h.feed()
	h.expect(xhttp2.FrameSettings)
	h.expectNone()
	h.cw.WriteWindowUpdate(1, 5)
	h.feed()
	if got, end := h.readData(1, 2); got != "lo" || !end {
		t.Fatalf("rest %q end %v", got, end)
	}
}

func TestWindowOverflow(t *testing.T) {
	h := newHarness(t, Config{})
	h.cw.WriteWindowUpdate(0, 1<<31-1)
	h.feed()
	h.expectGoAway(xhttp2.ErrCodeFlowControl)

	h = newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	h.kv.m["big"] = make([]byte, 10)
	h.request(1, "GET", "/get/big", true)
	h.cw.WriteWindowUpdate(1, 1<<31-1)
	h.cw.WriteWindowUpdate(1, 1<<31-1)
	h.feed()
	h.expect(xhttp2.FrameHeaders)
	h.expectRST(1, xhttp2.ErrCodeFlowControl)
	h.expectNone()

	h = newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	h.cw.WriteWindowUpdate(0, 1) // the connection would exceed nothing yet
	h.kv.m["z"] = nil
	h.request(1, "POST", "/store/x", false)
	h.cw.WriteWindowUpdate(1, 1<<31-1)
	h.cw.WriteWindowUpdate(1, 1)
	h.feed()
	h.expectRST(1, xhttp2.ErrCodeFlowControl)
}

func TestSettingsWindowOverflow(t *testing.T) {
	h := newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 0})
	h.request(1, "POST", "/store/x", false)
	h.cw.WriteWindowUpdate(1, 1<<31-1)
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1})
	h.feed()
	h.expectGoAway(xhttp2.ErrCodeFlowControl)
}

func TestReceiveFlowControl(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/x", false)
	chunk := make([]byte, 16384)
	for i := 0; i < 4; i++ {
		h.cw.WriteData(1, false, chunk)
	}
	h.cw.WriteData(1, false, chunk[:16383])
	h.feed()
	// Credit is returned in batches, before the stream window runs out.
	credited := 0
	for f := h.next(); f != nil; f = h.next() {
		wu, ok := f.(*xhttp2.WindowUpdateFrame)
		if !ok || wu.StreamID != 1 {
			t.Fatalf("got %v, want WINDOW_UPDATE on stream 1", summarize(f))
		}
		credited += int(wu.Increment)
	}
	if credited < 4*16384 {
		t.Fatalf("stream credited %d bytes, want at least %d", credited, 4*16384)
	}
}

// TestBodyBudget checks that beyond MaxBodyBuffer only the oldest
// unfinished body gets credit, and that exceeding a window is an error.
func TestBodyBudget(t *testing.T) {
	h := newHarness(t, Config{MaxBodyBuffer: 1})
	chunk := make([]byte, 16384)
	h.request(1, "POST", "/store/a", false)
	h.request(3, "POST", "/store/b", false)
	for i := 0; i < 3; i++ {
		h.cw.WriteData(3, false, chunk)
		h.cw.WriteData(1, false, chunk)
	}
	h.feed()
	for f := h.next(); f != nil; f = h.next() {
		if wu, ok := f.(*xhttp2.WindowUpdateFrame); !ok || wu.StreamID != 1 {
			t.Fatalf("got %v, want credit for stream 1 only", summarize(f))
		}
	}
	h.cw.WriteData(3, false, chunk[:65535-3*16384+1])
	h.feed()
	h.expectRST(3, xhttp2.ErrCodeFlowControl)
	h.cw.WriteData(1, true, chunk)
	h.feed()
	if r := h.response(1); r.status != "200" || len(h.kv.m["a"]) != 4*16384 {
		t.Fatalf("oldest body: %+v, stored %d bytes", r, len(h.kv.m["a"]))
	}
}

func TestDiscardedDataCreditsConnection(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/x", false)
	h.cw.WriteRSTStream(1, xhttp2.ErrCodeCancel)
	chunk := make([]byte, 16384)
	for i := 0; i < connWindow/16384; i++ {
		h.cw.WriteData(1, false, chunk)
	}
	h.feed()
	credit := 0
	for f := h.next(); f != nil; f = h.next() {
		if wu, ok := f.(*xhttp2.WindowUpdateFrame); ok && wu.StreamID == 0 {
			credit += int(wu.Increment)
		}
	}
	if credit < connWindow/2 {
		t.Fatalf("connection credited %d for discarded DATA, want at least %d", credit, connWindow/2)
	}
	if r := h.get(3, "/get/k"); r.body != "hello" {
		t.Fatalf("GET after discarded DATA = %+v", r)
	}
}

// TestBlockedAnswerIsCopied checks the value-lifetime rule: an answer that
// flow control holds past the end of a Feed no longer references the
// stored bytes, which may be reused.
func TestBlockedAnswerIsCopied(t *testing.T) {
	h := newHarness(t, Config{}, xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 2})
	v := []byte("abcdef")
	h.kv.m["v"] = v
	h.request(1, "GET", "/get/v", true)
	h.feed()
	if h.sink.values == 0 {
		t.Fatal("DATA was not sent by reference")
	}
	h.expect(xhttp2.FrameHeaders)
	h.readData(1, 2)
	copy(v, "XXXXXX") // the store reuses the memory
	h.cw.WriteWindowUpdate(1, 10)
	h.feed()
	if got, end := h.readData(1, 4); got != "cdef" || !end {
		t.Fatalf("rest of the answer %q (end %v), want %q", got, end, "cdef")
	}
}
