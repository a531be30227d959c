package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// checkUpgrade sends GET / with "Upgrade: h2c", expects 101 and the answer
// as HTTP/2 stream 1, then sends GET /get/missing as stream 3 over the
// same connection and expects 404.
func checkUpgrade(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	// The settings payload sets MAX_CONCURRENT_STREAMS to 100.
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: vmtest\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: %s\r\n\r\n", settings)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("read upgrade answer: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "h2c" {
		return fmt.Errorf("upgrade answer %q, Upgrade %q, want 101 and h2c", resp.Status, resp.Header.Get("Upgrade"))
	}
	c.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(c, br)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	if err := writeGet(fr, 3, "/get/vmtest-missing"); err != nil {
		return err
	}
	got, err := readAnswers(fr, 2)
	if err != nil {
		return err
	}
	if a := got[1]; a.status != "200" || a.body.String() != "Hello, World!" {
		return fmt.Errorf("stream 1: %s %q, want 200 %q", a.status, a.body.String(), "Hello, World!")
	}
	if a := got[3]; a.status != "404" {
		return fmt.Errorf("stream 3: status %s, want 404", a.status)
	}
	return nil
}

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

type answer struct {
	status string
	body   bytes.Buffer
	done   bool
}

// readAnswers reads frames until n streams have ended, acking the server's
// settings and pings on the way.
func readAnswers(fr *http2.Framer, n int) (map[uint32]*answer, error) {
	got := map[uint32]*answer{}
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	for ended := 0; ended < n; {
		f, err := fr.ReadFrame()
		if err != nil {
			return got, fmt.Errorf("read frame: %w", err)
		}
		a := got[f.Header().StreamID]
		if a == nil {
			a = &answer{}
			got[f.Header().StreamID] = a
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			fr.WritePing(true, f.Data)
		case *http2.MetaHeadersFrame:
			a.status = f.PseudoValue("status")
		case *http2.DataFrame:
			a.body.Write(f.Data())
		case *http2.GoAwayFrame:
			return got, fmt.Errorf("GOAWAY %v: %s", f.ErrCode, f.DebugData())
		case *http2.RSTStreamFrame:
			return got, fmt.Errorf("stream %d reset: %v", f.StreamID, f.ErrCode)
		}
		if f.Header().Flags.Has(http2.FlagDataEndStream) && f.Header().Type != http2.FrameSettings &&
			f.Header().Type != http2.FramePing && !a.done {
			a.done = true
			ended++
		}
	}
	for _, id := range []uint32{1, 3} {
		if got[id] == nil || !got[id].done {
			return got, errors.New("missing answer")
		}
	}
	return got, nil
}
