package http2

import (
	"bytes"
	"testing"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

// TestGetAllocs guards the hot path: a GET hit on an established
// connection allocates nothing.
func TestGetAllocs(t *testing.T) {
	h := newHarness(t, Config{})
	h.kv.m["key"] = bytes.Repeat([]byte("v"), 100)
	value := h.kv.m["key"]
	h.srv.cfg.Serve = func(*api.Request) api.Result {
		return api.Result{Status: 200, ContentType: api.TypeValue, Value: value}
	}
	// A batch of 16 GETs of the same key, as one read; the client indexes
	// :path after the first, as Go's Transport and h2load do.
	var batch bytes.Buffer
	cw := xhttp2.NewFramer(&batch, nil)
	id := uint32(1)
	next := func() []byte {
		batch.Reset()
		for i := 0; i < 16; i++ {
			cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, EndStream: true, EndHeaders: true,
				BlockFragment: h.block(":method", "GET", ":scheme", "http", ":path", "/get/key", ":authority", "x")})
			id += 2
		}
		cw.WriteWindowUpdate(0, 16*100)
		return bytes.Clone(batch.Bytes())
	}
	inputs := make([][]byte, 0, 200)
	for i := 0; i < 200; i++ {
		inputs = append(inputs, next())
	}
	var sink testSink
	sink.b = make([]byte, 0, 64<<10)
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		sink.b = sink.b[:0]
		if n := h.c.Feed(inputs[i], &sink); n != len(inputs[i]) {
			t.Fatalf("Feed used %d of %d bytes", n, len(inputs[i]))
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per batch of 16 GETs, want 0", allocs)
	}
	if h.c.Done() || len(h.c.streams) != 0 {
		t.Fatalf("connection done %v, %d streams open", h.c.Done(), len(h.c.streams))
	}
	if sink.values != 16*101 {
		t.Fatalf("%d values referenced, want %d", sink.values, 16*101)
	}
}

func BenchmarkGet(b *testing.B) {
	t := &testing.T{}
	h := newHarness(t, Config{})
	value := bytes.Repeat([]byte("v"), 100)
	h.srv.cfg.Serve = func(*api.Request) api.Result { return api.Result{Status: 200, Value: value} }
	var batch bytes.Buffer
	cw := xhttp2.NewFramer(&batch, nil)
	for i := 0; i < 16; i++ {
		cw.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: uint32(2*i + 1), EndStream: true, EndHeaders: true,
			BlockFragment: h.block(":method", "GET", ":scheme", "http", ":path", "/get/key", ":authority", "x")})
	}
	in := batch.Bytes()
	var sink testSink
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += 16 {
		sink.b = sink.b[:0]
		h.c.maxClientID = 0 // replay the same stream IDs
		h.c.sendWindow = 1 << 30
		h.c.Feed(in, &sink)
	}
}
