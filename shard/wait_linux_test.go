package shard

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/store"
)

// TestLoopWaitsForMemoryMidBatch sends one batch that reads a value and
// then writes far past the store's limit: the loop must wait for memory
// in the middle of the batch, and it can reuse the segment the value it
// read sits in only once it stops referencing it. The value must arrive
// intact (the loop copied it before it went offline to wait), and every
// write must succeed. Over HTTP/2 the client's flow-control window is
// zero, so the value waits in the stream, not in the batch's output.
func TestLoopWaitsForMemoryMidBatch(t *testing.T) {
	const (
		seg    = 4096
		size   = 1500 // two entries a segment
		writes = 36   // 18 segments in one read, against 8 and an overdraft of 4
	)
	held := bytes.Repeat([]byte("held value "), size/11)
	lim := api.Limits{MaxKeySize: 64, MaxValueSize: 2048}
	newServer := func(t *testing.T) *testServer {
		c, err := store.New(store.Config{MaxBytes: 8 * seg, SegmentSize: seg})
		if err != nil {
			t.Fatal(err)
		}
		ts := start(t, Config{Engine: EngineLoop, Limits: lim, Store: c}, 1)
		// held, then fillers that seal its segment: it is the oldest, the
		// first the batch's writes evict.
		for i, k := range []string{"held", "f0", "f1"} {
			v := held
			if i > 0 {
				v = make([]byte, size)
			}
			resp, body := exchange(t, ts.addr, fmt.Sprintf("POST /store/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", k, len(v), v))
			if resp.StatusCode != 200 {
				t.Fatalf("storing %s: %d %q", k, resp.StatusCode, body)
			}
		}
		return ts
	}
	value := make([]byte, size)

	t.Run("http1", func(t *testing.T) {
		ts := newServer(t)
		var batch bytes.Buffer
		batch.WriteString("GET /get/held HTTP/1.1\r\nHost: x\r\n\r\n")
		for i := range writes {
			fmt.Fprintf(&batch, "POST /store/w%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", i, size, value)
		}
		if batch.Len() > readBufSize {
			t.Fatalf("batch of %d bytes: over the read buffer, it would take two reads", batch.Len())
		}
		c := dial(t, ts.addr)
		defer c.Close()
		c.Write(batch.Bytes())
		br := bufio.NewReader(c)
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != string(held) {
			t.Errorf("GET held: %d, %d bytes, want 200 and the %d bytes stored intact", resp.StatusCode, len(body), len(held))
		}
		for i := range writes {
			if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 {
				t.Fatalf("write %d: %d %q", i, resp.StatusCode, body)
			}
		}
	})

	t.Run("h2c", func(t *testing.T) {
		ts := newServer(t)
		h := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		var batch bytes.Buffer
		fr := http2.NewFramer(&batch, nil)
		send := func(id uint32, method, path string, body []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.headerBlock(method, path), EndStream: body == nil, EndHeaders: true})
			if body != nil {
				fr.WriteData(id, true, body)
			}
		}
		send(1, "GET", "/get/held", nil)
		for i := range writes {
			send(uint32(3+2*i), "POST", fmt.Sprintf("/store/w%d", i), value)
		}
		if batch.Len() > readBufSize {
			t.Fatalf("batch of %d bytes: over the read buffer, it would take two reads", batch.Len())
		}
		h.c.Write(batch.Bytes())
		status := map[uint32]string{}
		for len(status) < writes+1 {
			switch f := h.next().(type) {
			case *http2.MetaHeadersFrame:
				status[f.StreamID] = f.PseudoValue("status")
			case *http2.DataFrame:
				if f.StreamID == 1 {
					t.Fatalf("DATA on stream 1 with a zero window")
				}
			}
		}
		for id, st := range status {
			if st != "200" {
				t.Errorf("stream %d: status %s", id, st)
			}
		}
		h.fr.WriteWindowUpdate(1, size*2)
		h.fr.WriteWindowUpdate(0, size*2)
		if body := h.readBody(1); body != string(held) {
			t.Errorf("GET held over h2c: %d bytes, want the %d bytes stored intact", len(body), len(held))
		}
	})
}
