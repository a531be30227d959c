package http2

import (
	"testing"

	xhttp2 "golang.org/x/net/http2"
)

// TestStreamStates replays h2spec's section 5.1 cases.
func TestStreamStates(t *testing.T) {
	type step func(h *harness)
	tests := []struct {
		name  string
		steps step
		check step
	}{
		{"DATA on idle stream", func(h *harness) { h.cw.WriteData(1, true, []byte("x")) },
			func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"RST_STREAM on idle stream", func(h *harness) { h.cw.WriteRSTStream(1, xhttp2.ErrCodeCancel) },
			func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"WINDOW_UPDATE on idle stream", func(h *harness) { h.cw.WriteWindowUpdate(1, 10) },
			func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"CONTINUATION on idle stream", func(h *harness) { h.cw.WriteContinuation(1, true, h.block(":method", "GET")) },
			func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"even stream ID", func(h *harness) { h.request(2, "GET", "/", true) },
			func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"decreasing stream ID", func(h *harness) { h.request(5, "GET", "/", true); h.request(3, "GET", "/", true) },
			func(h *harness) { h.response(5); h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"DATA on half-closed stream", func(h *harness) {
			h.request(1, "GET", "/get/k", true)
			h.cw.WriteData(1, true, []byte("x"))
		}, func(h *harness) { h.response(1); h.expectRST(1, xhttp2.ErrCodeStreamClosed) }},
		{"HEADERS on closed stream", func(h *harness) { h.request(1, "GET", "/get/k", true); h.request(1, "GET", "/get/k", true) },
			func(h *harness) { h.response(1); h.expectGoAway(xhttp2.ErrCodeStreamClosed) }},
		{"DATA after the peer's RST_STREAM", func(h *harness) {
			h.request(1, "POST", "/store/x", false)
			h.cw.WriteRSTStream(1, xhttp2.ErrCodeCancel)
			h.cw.WriteData(1, true, []byte("x"))
		}, func(h *harness) { h.expectRST(1, xhttp2.ErrCodeStreamClosed) }},
		{"PRIORITY on idle stream does not open it", func(h *harness) {
			h.cw.WritePriority(5, xhttp2.PriorityParam{StreamDep: 0, Weight: 1})
			h.request(3, "GET", "/get/k", true)
		}, func(h *harness) {
			if r := h.response(3); r.body != "hello" {
				h.t.Fatalf("GET after PRIORITY = %+v", r)
			}
		}},
		{"PRIORITY on itself", func(h *harness) { h.cw.WritePriority(3, xhttp2.PriorityParam{StreamDep: 3}) },
			func(h *harness) { h.expectRST(3, xhttp2.ErrCodeProtocol) }},
		{"HEADERS depending on itself", func(h *harness) {
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(":method", "GET", ":scheme", "http", ":path", "/"),
				EndStream: true, EndHeaders: true, Priority: xhttp2.PriorityParam{StreamDep: 1}})
		}, func(h *harness) { h.expectRST(1, xhttp2.ErrCodeProtocol) }},
		{"PUSH_PROMISE", func(h *harness) {
			h.cw.WritePushPromise(xhttp2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: h.block(":method", "GET"), EndHeaders: true})
		}, func(h *harness) { h.expectGoAway(xhttp2.ErrCodeProtocol) }},
		{"unknown frame type is ignored", func(h *harness) {
			h.cw.WriteRawFrame(0x20, 0, 0, []byte("?"))
			h.request(1, "GET", "/get/k", true)
		}, func(h *harness) { h.response(1) }},
		{"stream 2^31-1, then none lower", func(h *harness) {
			h.request(1<<31-1, "GET", "/get/k", true)
			h.request(1<<31-3, "GET", "/get/k", true)
		}, func(h *harness) { h.response(1<<31 - 1); h.expectGoAway(xhttp2.ErrCodeProtocol) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			tc.steps(h)
			h.feed()
			tc.check(h)
			h.expectNone()
		})
	}
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings []xhttp2.Setting
		code     xhttp2.ErrCode // 0: accepted
	}{
		{"ENABLE_PUSH 2", []xhttp2.Setting{{ID: xhttp2.SettingEnablePush, Val: 2}}, xhttp2.ErrCodeProtocol},
		{"INITIAL_WINDOW_SIZE 2^31", []xhttp2.Setting{{ID: xhttp2.SettingInitialWindowSize, Val: 1 << 31}}, xhttp2.ErrCodeFlowControl},
		{"MAX_FRAME_SIZE small", []xhttp2.Setting{{ID: xhttp2.SettingMaxFrameSize, Val: 16383}}, xhttp2.ErrCodeProtocol},
		{"MAX_FRAME_SIZE large", []xhttp2.Setting{{ID: xhttp2.SettingMaxFrameSize, Val: 1 << 24}}, xhttp2.ErrCodeProtocol},
		{"unknown ID", []xhttp2.Setting{{ID: 0xff, Val: 1}}, 0},
		{"duplicates", []xhttp2.Setting{{ID: xhttp2.SettingInitialWindowSize, Val: 100}, {ID: xhttp2.SettingInitialWindowSize, Val: 1}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.cw.WriteSettings(tc.settings...)
			h.feed()
			if tc.code != 0 {
				h.expectGoAway(tc.code)
				return
			}
			if f := h.expect(xhttp2.FrameSettings).(*xhttp2.SettingsFrame); !f.IsAck() {
				t.Fatal("no SETTINGS ACK")
			}
			h.expectNone()
		})
	}
}

func TestSettingsAppliedInOrder(t *testing.T) {
	h := newHarness(t, Config{})
	h.cw.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 100},
		xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1})
	h.cw.WriteSettings()
	h.request(1, "GET", "/get/k", true)
	h.feed()
	h.expect(xhttp2.FrameSettings)
	h.expect(xhttp2.FrameSettings) // one ACK per frame
	h.expect(xhttp2.FrameHeaders)
	if d := h.expect(xhttp2.FrameData).(*xhttp2.DataFrame); string(d.Data()) != "h" || d.StreamEnded() {
		t.Fatalf("DATA %q, end %v; want 1 byte (window 1)", d.Data(), d.StreamEnded())
	}
	h.expectNone()
}

func TestSettingsFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		write func(h *harness)
		code  xhttp2.ErrCode
	}{
		{"ACK with payload", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameSettings, xhttp2.FlagSettingsAck, 0, make([]byte, 6)) }, xhttp2.ErrCodeFrameSize},
		{"length not a multiple of 6", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameSettings, 0, 0, make([]byte, 3)) }, xhttp2.ErrCodeFrameSize},
		{"on a stream", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameSettings, 0, 1, nil) }, xhttp2.ErrCodeProtocol},
		{"PING on a stream", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FramePing, 0, 1, make([]byte, 8)) }, xhttp2.ErrCodeProtocol},
		{"PING of 7 bytes", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FramePing, 0, 0, make([]byte, 7)) }, xhttp2.ErrCodeFrameSize},
		{"GOAWAY on a stream", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameGoAway, 0, 1, make([]byte, 8)) }, xhttp2.ErrCodeProtocol},
		{"RST_STREAM of 3 bytes", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameRSTStream, 0, 1, make([]byte, 3)) }, xhttp2.ErrCodeFrameSize},
		{"WINDOW_UPDATE of 3 bytes", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameWindowUpdate, 0, 0, make([]byte, 3)) }, xhttp2.ErrCodeFrameSize},
		{"WINDOW_UPDATE 0 on connection", func(h *harness) { h.cw.WriteWindowUpdate(0, 0) }, xhttp2.ErrCodeProtocol},
		{"DATA on stream 0", func(h *harness) { h.cw.WriteData(0, true, []byte("x")) }, xhttp2.ErrCodeProtocol},
		{"HEADERS on stream 0", func(h *harness) { h.request(0, "GET", "/", true) }, xhttp2.ErrCodeProtocol},
		{"bad DATA padding", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FrameData, xhttp2.FlagDataPadded, 1, []byte{5, 1}) }, xhttp2.ErrCodeProtocol},
		{"bad HEADERS padding", func(h *harness) {
			h.cw.WriteRawFrame(xhttp2.FrameHeaders, xhttp2.FlagHeadersPadded|xhttp2.FlagHeadersEndHeaders, 1, []byte{5, 1})
		}, xhttp2.ErrCodeProtocol},
		{"PRIORITY of 4 bytes", func(h *harness) { h.cw.WriteRawFrame(xhttp2.FramePriority, 0, 1, make([]byte, 4)) }, xhttp2.ErrCodeFrameSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			tc.write(h)
			h.feed()
			h.expectGoAway(tc.code)
			h.expectNone()
		})
	}
}

func TestContinuation(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.block(":method", "GET", ":scheme", "http", ":path", "/get/k", "x-a", "1")
	h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3], EndStream: true})
	h.cw.WriteContinuation(1, false, b[3:7])
	h.cw.WriteContinuation(1, true, b[7:])
	h.feed()
	if r := h.response(1); r.body != "hello" {
		t.Fatalf("GET in 3 fragments = %+v", r)
	}
	tests := []struct {
		name  string
		write func(h *harness, b []byte)
	}{
		{"other frame inside", func(h *harness, b []byte) {
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3], EndStream: true})
			h.cw.WritePing(false, [8]byte{})
		}},
		{"other stream", func(h *harness, b []byte) {
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:3], EndStream: true})
			h.cw.WriteContinuation(3, true, b[3:])
		}},
		{"after END_HEADERS", func(h *harness, b []byte) {
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndHeaders: true})
			h.cw.WriteContinuation(1, true, nil)
		}},
		{"after DATA", func(h *harness, b []byte) {
			h.cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b, EndHeaders: true})
			h.cw.WriteData(1, false, []byte("x"))
			h.cw.WriteContinuation(1, true, nil)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			tc.write(h, h.block(":method", "POST", ":scheme", "http", ":path", "/store/k"))
			h.feed()
			h.expectGoAway(xhttp2.ErrCodeProtocol)
		})
	}
}

func TestPeerGoAway(t *testing.T) {
	h := newHarness(t, Config{})
	h.request(1, "POST", "/store/x", false)
	h.cw.WriteGoAway(1, xhttp2.ErrCodeNo, nil)
	h.feed()
	if h.c.Done() {
		t.Fatal("done with a stream open")
	}
	h.cw.WriteData(1, true, []byte("v"))
	h.feed()
	h.response(1)
	if !h.c.Done() {
		t.Fatal("not done after the peer's GOAWAY and the last answer")
	}
}
