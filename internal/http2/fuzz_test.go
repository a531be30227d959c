package http2

import (
	"bytes"
	"testing"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConn feeds arbitrary frame sequences, after the preface and an empty
// SETTINGS, in reads of arbitrary sizes: the connection must never panic,
// and what it holds must stay within its limits.
func FuzzConn(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(byte(7), seed)
	}
	f.Fuzz(func(t *testing.T, step byte, in []byte) {
		k := &kv{m: map[string][]byte{"k": []byte("hello")}}
		slots := 0
		cfg := Config{Serve: k.serve, MaxConcurrentStreams: 8, MaxBlocked: 4096, MaxBodySize: 4096, MaxHeaderListSize: 4096, MaxControlRate: 50,
			Acquire: func() bool {
				if slots >= 4 {
					return false
				}
				slots++
				return true
			},
			Release: func() { slots-- }}
		srv := NewServer(cfg)
		c := srv.NewConn()
		var sink testSink
		var pending []byte
		data := append([]byte(Preface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00"), in...)
		chunk := int(step)%64 + 1
		for len(data) > 0 && !c.Done() {
			n := min(chunk, len(data))
			pending = append(pending, data[:n]...)
			data = data[n:]
			sink.b = sink.b[:0]
			used := c.Feed(pending, &sink)
			pending = pending[used:]
			if len(pending) > 9+maxFrameSize || sink.Len() > batchLimit+maxFrameSize+4096+64<<10 {
				t.Fatalf("holding %d input bytes, %d output bytes", len(pending), sink.Len())
			}
			if len(c.streams) > 8 || c.blockedBytes > 4096+4096+64 || c.bodyBuffered > 4*(65535+4096) {
				t.Fatalf("%d streams, %d blocked bytes, %d body bytes", len(c.streams), c.blockedBytes, c.bodyBuffered)
			}
		}
		c.Expire(srv.now.Add(DefaultIdleTimeout), &sink)
		if !c.Done() || len(c.streams) != 0 || slots != 0 {
			t.Fatalf("after the idle timeout: done %v, %d streams, %d slots held", c.Done(), len(c.streams), slots)
		}
	})
}

// fuzzSeeds returns frame sequences from the tests' cases.
func fuzzSeeds() [][]byte {
	var out [][]byte
	add := func(write func(fr *xhttp2.Framer, enc func(...string) []byte)) {
		var b, hb bytes.Buffer
		fr := xhttp2.NewFramer(&b, nil)
		fr.AllowIllegalWrites = true
		e := hpack.NewEncoder(&hb)
		enc := func(fields ...string) []byte {
			hb.Reset()
			for i := 0; i+1 < len(fields); i += 2 {
				e.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
			}
			return bytes.Clone(hb.Bytes())
		}
		write(fr, enc)
		out = append(out, b.Bytes())
	}
	get := []string{":method", "GET", ":scheme", "http", ":path", "/get/k"}
	add(func(fr *xhttp2.Framer, enc func(...string) []byte) {
		fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
	})
	add(func(fr *xhttp2.Framer, enc func(...string) []byte) {
		fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingInitialWindowSize, Val: 1})
		fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":method", "POST", ":scheme", "http", ":path", "/store/a", "content-length", "3"), EndHeaders: true})
		fr.WriteDataPadded(1, true, []byte("abc"), []byte{0, 0})
		fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: enc(get...), EndStream: true, EndHeaders: true})
		fr.WriteWindowUpdate(3, 10)
		fr.WriteWindowUpdate(0, 10)
	})
	add(func(fr *xhttp2.Framer, enc func(...string) []byte) {
		b := enc(get...)
		fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: b[:2], EndStream: true})
		fr.WriteContinuation(1, true, b[2:])
		fr.WritePing(false, [8]byte{1})
		fr.WritePriority(3, xhttp2.PriorityParam{StreamDep: 1})
		fr.WriteRSTStream(1, xhttp2.ErrCodeCancel)
		fr.WriteGoAway(1, xhttp2.ErrCodeNo, nil)
	})
	return out
}
