package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/bench/internal/workload"
)

// serveH2 serves s over h2c with x/net's own http2.Server, which
// advertises maxStreams and refuses a stream beyond it.
func serveH2(t *testing.T, s *kvServer, maxStreams uint32) string {
	t.Helper()
	s.m, s.stop = map[string][]byte{}, make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http2.Server{MaxConcurrentStreams: maxStreams}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { srv.ServeConn(c, &http2.ServeConnOpts{Handler: s}) })
		}
	})
	t.Cleanup(func() {
		close(s.stop)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestH2StreamLimit runs more streams per connection than x/net's server
// allows: the client must keep to the server's SETTINGS, or the server
// refuses the extra streams.
func TestH2StreamLimit(t *testing.T) {
	addr := serveH2(t, &kvServer{}, 3)
	cfg := Config{Addr: addr, Proto: H2C, Conns: 2, Streams: 16, Timeout: 30 * time.Second}
	w := newWorkload(t, workload.Config{Keys: 100})
	if err := Preload(context.Background(), cfg, w); err != nil {
		t.Fatalf("Preload: %v", err)
	}
	for _, rate := range []float64{0, 4000} {
		res, err := Run(context.Background(), cfg, w, Step{Rate: rate, Duration: 200 * time.Millisecond}, 1)
		if err != nil {
			t.Fatalf("Run at %v/s: %v", rate, err)
		}
		if res.Errors.Total() != 0 || res.Completed == 0 || res.Completed != res.Sent {
			t.Fatalf("Run at %v/s: %d sent, %d answered, errors %+v: %s", rate, res.Sent, res.Completed, res.Errors, res.FirstError)
		}
		if rate > 0 && (res.Completed != 800 || res.Lateness.TotalCount() != 800) {
			t.Errorf("open loop at 4000/s for 200ms: %d answers, %d lateness samples, want 800 each", res.Completed, res.Lateness.TotalCount())
		}
	}
}

// TestH2FlowControl moves values larger than every window in both
// directions: the client's stream window (h2StreamWindow), x/net's
// server's (1 MiB) and its connection window, so that both sides must
// send WINDOW_UPDATEs for the transfers to finish.
func TestH2FlowControl(t *testing.T) {
	const size = 3 << 20
	addr := serveH2(t, &kvServer{}, 0)
	cfg := Config{Addr: addr, Proto: H2C, Conns: 2, Streams: 3, Timeout: 30 * time.Second}
	w := newWorkload(t, workload.Config{Keys: 6, ValueSize: size, ReadRatio: 0.5})
	if err := Preload(context.Background(), cfg, w); err != nil {
		t.Fatalf("Preload: %v", err)
	}
	res, err := Run(context.Background(), cfg, w, Step{Duration: 300 * time.Millisecond}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors.Total() != 0 || res.Completed != res.Sent {
		t.Fatalf("%d sent, %d answered, errors %+v: %s", res.Sent, res.Completed, res.Errors, res.FirstError)
	}
	if gets := res.Latency[workload.Get].TotalCount(); gets == 0 || res.Completed == gets {
		t.Errorf("%d answers, %d of them reads: want reads and writes of %d-byte values", res.Completed, gets, size)
	}
}

// rudeServer answers h2c with raw frames: a PING first, then every
// fifth stream reset, and after goAwayAfter streams a GOAWAY naming the
// last it will answer.
type rudeServer struct {
	w           *workload.Workload
	goAwayAfter int
	mu          sync.Mutex
	answered    int
	pingAcked   bool
}

func (s *rudeServer) serve(c net.Conn) error {
	defer c.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return err
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}); err != nil {
		return err
	}
	if err := fr.WritePing(false, [8]byte{1, 2, 3}); err != nil {
		return err
	}
	var path string
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":path" {
			path = f.Value
		}
	})
	streams := 0
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			s.mu.Lock()
			s.pingAcked = s.pingAcked || f.IsAck() && f.Data == [8]byte{1, 2, 3}
			s.mu.Unlock()
		case *http2.HeadersFrame:
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				return err
			}
			if err := dec.Close(); err != nil {
				return err
			}
			streams++
			if streams > s.goAwayAfter {
				continue // not processed, as the GOAWAY said
			}
			if err := s.answer(fr, f.StreamID, streams, path); err != nil {
				return err
			}
			if streams == s.goAwayAfter {
				if err := fr.WriteGoAway(f.StreamID, http2.ErrCodeNo, nil); err != nil {
					return err
				}
			}
		}
	}
}

func (s *rudeServer) answer(fr *http2.Framer, id uint32, n int, path string) error {
	if n%5 == 0 {
		return fr.WriteRSTStream(id, http2.ErrCodeRefusedStream)
	}
	key, err := strconv.Atoi(strings.TrimPrefix(path, "/get/key"))
	if err != nil {
		return err
	}
	var block []byte
	enc := hpack.NewEncoder(sliceWriter{&block})
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndHeaders: true}); err != nil {
		return err
	}
	// Version 0 of every key: never written, so the one a read may see.
	if err := fr.WriteData(id, true, s.w.AppendValue(nil, key, 0)); err != nil {
		return err
	}
	s.mu.Lock()
	s.answered++
	s.mu.Unlock()
	return nil
}

// TestH2ResetAndGoAway checks that streams the server resets, and those
// a GOAWAY leaves out, are counted as failed, and the rest as answered.
func TestH2ResetAndGoAway(t *testing.T) {
	w := newWorkload(t, workload.Config{Keys: 50, ReadRatio: 1})
	s := &rudeServer{w: w, goAwayAfter: 40}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- s.serve(c)
	}()
	cfg := Config{Addr: ln.Addr().String(), Proto: H2C, Conns: 1, Streams: 8, Timeout: 30 * time.Second}
	res, err := Run(context.Background(), cfg, w, Step{Rate: 2000, Duration: 100 * time.Millisecond}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		t.Errorf("fake server: %v, want the client to close the connection", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pingAcked {
		t.Error("the server's PING got no ACK")
	}
	if res.Completed != int64(s.answered) || res.Completed == 0 {
		t.Errorf("%d answered, the server answered %d", res.Completed, s.answered)
	}
	if res.Errors.IO == 0 || res.Errors.Total() != res.Errors.IO || res.Completed+res.Errors.IO != 200 {
		t.Errorf("%d answered, errors %+v: want 200 in all, the failures as I/O errors", res.Completed, res.Errors)
	}
	if !strings.Contains(res.FirstError, "REFUSED_STREAM") {
		t.Errorf("first error %q, want the reset of stream 9", res.FirstError)
	}
}

// TestH2NotHTTP2 checks that an HTTP/1.1-only server fails the dial.
func TestH2NotHTTP2(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(ln)
	defer srv.Close()
	w := newWorkload(t, workload.Config{Keys: 4})
	_, err = Run(context.Background(), Config{Addr: ln.Addr().String(), Proto: H2C, Conns: 1}, w, Step{Duration: time.Millisecond}, 1)
	if err == nil || !strings.Contains(err.Error(), "handshake") {
		t.Errorf("Run over h2c against an HTTP/1.1 server = %v, want a failed handshake", err)
	}
}
