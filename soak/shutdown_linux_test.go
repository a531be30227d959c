package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// probeWait bounds the waits for a state the server must reach (a request
// read, listeners closed). It only catches hangs: it is wide.
const probeWait = 30 * time.Second

// testSigterm sends SIGTERM to a server under load over both protocols.
// Every reply, before and during the drain, must be right; two uploads
// the server had started to read before the signal (one HTTP/1.1, one
// HTTP/2) must be finished and acknowledged after it; and the server must
// exit 0. It returns the replies verified.
func testSigterm(t *testing.T, bin, engine string) int64 {
	srv := startServer(t, bin, 5*time.Second, "--engine", engine)
	// The probes start before the load: /stats then counts no other
	// request in flight.
	p2 := startH2Probe(t, srv)
	p1 := startH1Probe(t, srv)
	clients := []*soakClient{newSoakClient("h1"), newSoakClient("h2c"), newSoakClient("h1"), newSoakClient("h2c")}
	l := newSoakLoad(srv, clients, 6, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := l.run(ctx, 6, 2)
	progress, stop := context.WithTimeout(ctx, probeWait)
	defer stop()
	if !waitFor(progress, func() bool { return l.verified.Load() >= 500 || l.fail.count() > 0 }) {
		t.Fatalf("only %d replies verified in %v", l.verified.Load(), probeWait)
	}

	srv.terminate()
	closed, stop := context.WithTimeout(ctx, probeWait)
	defer stop()
	if !waitFor(closed, func() bool { return refused(srv.addr) }) {
		t.Errorf("corekv still accepts connections %v after SIGTERM", probeWait)
	}
	p1.finish(t)
	p2.finish(t)
	took := srv.wait()
	cancel()
	wait()
	l.fail.report(t)
	t.Logf("%d replies verified, %d of them after SIGTERM; %d requests cut by the shutdown; exit %v after SIGTERM",
		l.verified.Load(), l.drained.Load(), l.cut.Load(), took.Round(time.Millisecond))
	return l.verified.Load() + 2
}

// refused reports whether a connection to addr is refused.
func refused(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// probeValue is the body of the probes' uploads.
var probeValue = memValue(7, 48<<10)

// h1Probe is an HTTP/1.1 upload whose first half the server has read.
type h1Probe struct {
	conn net.Conn
}

// startH1Probe sends the head and half the body of a store and waits until
// the server has read them: the client's socket has nothing left to send
// and the server's has nothing left unread.
func startH1Probe(t *testing.T, srv *soakServer) *h1Probe {
	t.Helper()
	conn, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("PUT /store/probe-h1 HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n\r\n", len(probeValue))
	if _, err := conn.Write(append([]byte(head), probeValue[:len(probeValue)/2]...)); err != nil {
		t.Fatal(err)
	}
	client := conn.LocalAddr().(*net.TCPAddr).Port
	server := conn.RemoteAddr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), probeWait)
	defer cancel()
	var last error
	read := waitFor(ctx, func() bool {
		tx, _, ok1, err1 := tcpQueues(client, server)
		_, rx, ok2, err2 := tcpQueues(server, client)
		last = errors.Join(err1, err2)
		return last == nil && ok1 && ok2 && tx == 0 && rx == 0
	})
	if !read {
		t.Fatalf("the server did not read the probe's first half within %v (%v)", probeWait, last)
	}
	return &h1Probe{conn: conn}
}

// finish sends the rest of the body: the store must be acknowledged, and
// the connection closed after it since the server is draining.
func (p *h1Probe) finish(t *testing.T) {
	t.Helper()
	if _, err := p.conn.Write(probeValue[len(probeValue)/2:]); err != nil {
		t.Errorf("HTTP/1.1 upload in flight at SIGTERM: writing its second half: %v", err)
		return
	}
	br := bufio.NewReader(p.conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Errorf("HTTP/1.1 upload in flight at SIGTERM: no reply: %v", err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(body) != bodyStored || !resp.Close {
		t.Errorf("HTTP/1.1 upload in flight at SIGTERM: %d %q (close %v, %v); want 200 %q and Connection: close",
			resp.StatusCode, body, resp.Close, err, bodyStored)
	}
	// Wait for the close: the loop engine may then end its drain, which
	// must not cut the HTTP/2 probe still in flight.
	p.conn.SetReadDeadline(time.Now().Add(probeWait))
	if n, err := io.Copy(io.Discard, br); n != 0 || err != nil {
		t.Errorf("HTTP/1.1 upload in flight at SIGTERM: after the reply, %d more bytes and %v; want the connection closed", n, err)
	}
}

// h2Probe is an HTTP/2 upload whose stream the server is serving.
type h2Probe struct {
	body  *io.PipeWriter
	reply chan error
}

// startH2Probe starts a store over h2c, sends half its body and waits
// until /stats counts it in flight.
func startH2Probe(t *testing.T, srv *soakServer) *h2Probe {
	t.Helper()
	c := newSoakClient("h2c")
	t.Cleanup(c.CloseIdleConnections)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req, err := http.NewRequest("PUT", "http://"+srv.addr+"/store/probe-h2", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(probeValue))
	p := &h2Probe{body: pw, reply: make(chan error, 1)}
	go func() { p.reply <- h2ProbeReply(c.Do(req)) }()
	if _, err := pw.Write(probeValue[:len(probeValue)/2]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeWait)
	defer cancel()
	stats := newSoakClient("h1")
	defer stats.CloseIdleConnections()
	inFlight := waitFor(ctx, func() bool {
		st, err := srv.stats(stats.Client)
		n := 0
		for _, s := range st.Shards {
			n += s.InFlight
		}
		return err == nil && n >= 2 // the probe and this /stats
	})
	if !inFlight {
		t.Fatalf("/stats did not count the HTTP/2 probe in flight within %v", probeWait)
	}
	return p
}

func h2ProbeReply(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || string(body) != bodyStored || resp.ProtoMajor != 2 {
		return fmt.Errorf("HTTP/%d %d %q (%v); want HTTP/2 200 %q", resp.ProtoMajor, resp.StatusCode, body, err, bodyStored)
	}
	return nil
}

// finish sends the rest of the body: the store must be acknowledged.
func (p *h2Probe) finish(t *testing.T) {
	t.Helper()
	if _, err := p.body.Write(probeValue[len(probeValue)/2:]); err != nil {
		t.Errorf("HTTP/2 upload in flight at SIGTERM: writing its second half: %v", err)
	}
	p.body.Close()
	if err := <-p.reply; err != nil {
		t.Errorf("HTTP/2 upload in flight at SIGTERM: %v", err)
	}
}
