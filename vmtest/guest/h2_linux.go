package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is one raw HTTP/2 connection over cleartext, begun with prior
// knowledge: the client preface and SETTINGS, and no Upgrade.
type h2Conn struct {
	net.Conn
	fr   *http2.Framer
	next uint32 // the next client stream id
}

func dialH2(addr string) (*h2Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		c.Close()
		return nil, err
	}
	fr := newFramer(c, bufio.NewReader(c))
	if err := fr.WriteSettings(); err != nil {
		c.Close()
		return nil, err
	}
	return &h2Conn{Conn: c, fr: fr, next: 1}, nil
}

// newFramer returns a framer that decodes header blocks with one HPACK
// decoder for the connection's life, as the dynamic table needs.
func newFramer(w io.Writer, r io.Reader) *http2.Framer {
	fr := http2.NewFramer(w, r)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	return fr
}

// get sends GET path on the next stream and reads its whole answer.
func (c *h2Conn) get(path string) (int, []byte, error) {
	id := c.next
	c.next += 2
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if err := writeGet(c.fr, id, path); err != nil {
		return 0, nil, err
	}
	got, err := readAnswers(c.fr, id)
	if err != nil {
		return 0, nil, err
	}
	code, err := strconv.Atoi(got[id].status)
	if err != nil {
		return 0, nil, fmt.Errorf("stream %d: bad :status %q", id, got[id].status)
	}
	return code, got[id].body.Bytes(), nil
}

// writeGet sends GET path as one HEADERS frame that ends the stream.
func writeGet(fr *http2.Framer, stream uint32, path string) error {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "vmtest"}, {":path", path}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: stream, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true,
	})
}

// answer is what came back on one stream.
type answer struct {
	status string
	body   bytes.Buffer
	done   bool
}

// readAnswers reads frames until every stream in ids has ended, acking the
// server's settings and pings on the way. A GOAWAY or a reset stream is an
// error.
func readAnswers(fr *http2.Framer, ids ...uint32) (map[uint32]*answer, error) {
	got := map[uint32]*answer{}
	for _, id := range ids {
		got[id] = &answer{}
	}
	for ended := 0; ended < len(ids); {
		f, err := fr.ReadFrame()
		if err != nil {
			return got, fmt.Errorf("read frame: %w", err)
		}
		a := got[f.Header().StreamID]
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			return got, fmt.Errorf("GOAWAY %v: %s", f.ErrCode, f.DebugData())
		case *http2.RSTStreamFrame:
			return got, fmt.Errorf("stream %d reset: %v", f.StreamID, f.ErrCode)
		case *http2.MetaHeadersFrame:
			if a != nil {
				a.status = f.PseudoValue("status")
				ended += a.end(f.StreamEnded())
			}
		case *http2.DataFrame:
			if a != nil {
				a.body.Write(f.Data())
				ended += a.end(f.StreamEnded())
			}
		}
	}
	return got, nil
}

// end marks a as done when its stream ended and reports 1 the first time.
func (a *answer) end(ended bool) int {
	if !ended || a.done {
		return 0
	}
	a.done = true
	return 1
}
