package shard

import (
	"time"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
	"github.com/corekv/corekv/internal/http2"
	"github.com/corekv/corekv/metrics"
)

// newH2 returns the loop's HTTP/2 server: h2c connections are served on
// the loop's own thread, each stream answered through api.Exec like an
// HTTP/1 request, and each stream holding one of the shard's concurrency
// slots from its HEADERS until its answer is sent.
func (l *loop) newH2() *http2.Server {
	return http2.NewServer(http2.Config{
		Serve:             l.serveStream,
		Acquire:           l.s.sem.tryAcquire,
		Release:           l.s.sem.release,
		MaxHeaderListSize: l.cfg.MaxHeaderSize,
		MaxBodySize:       l.cfg.Limits.MaxValueSize,
		ReadTimeout:       l.cfg.ReadTimeout,
		IdleTimeout:       l.cfg.IdleTimeout,
	})
}

// serveStream answers one HTTP/2 request, through the loop's handle on
// the store: a value is read zero-copy, and internal/http2 copies what flow
// control holds back past this iteration.
func (l *loop) serveStream(r *api.Request) api.Result {
	r.Shard = l.st
	res := l.exec.Do(r, l.key)
	countLoop(l.m, r.Method, metrics.HTTP2, &res)
	l.batch.n++
	return res
}

// startH2 makes c an HTTP/2 connection (prior knowledge).
func (l *loop) startH2(c *conn) {
	c.h2 = l.h2.NewConn()
}

// upgradeH2 makes c an HTTP/2 connection from an Upgrade: h2c request
// whose whole body is body, appending 101 Switching Protocols, our
// SETTINGS and the answer to the request (stream 1) to l.out. It reports
// false, changing nothing, when the upgrade is to be ignored and the
// request served over HTTP/1.1 (a malformed HTTP2-Settings). The request's
// concurrency slot passes to stream 1.
func (l *loop) upgradeH2(c *conn, r *http1.Request, body []byte) bool {
	settings, err := h2Settings(r.H2Settings)
	if err != nil {
		return false
	}
	h := l.h2.NewConn()
	l.s.sem.release() // stream 1 takes its own
	if h.Upgrade(settings, r.Method, r.Origin(), body, &l.out) != nil {
		l.s.sem.tryAcquire() // only this thread uses the semaphore: it was just freed
		return false
	}
	c.h2 = h
	return true
}

// serveH2 feeds an HTTP/2 connection the input at data, in batches of
// about maxBatchOut bytes of output, one write each, like serve for
// HTTP/1: it stops when the socket does not take a whole batch, and the
// rest of the input waits in c.in. l.out holds the batch begun so far.
// During the drain the connection gets GOAWAY first.
func (l *loop) serveH2(c *conn, data []byte) {
	if l.draining {
		c.h2.Shutdown(&l.out)
	}
	for {
		l.batch = batch{first: l.now, rest: l.now} // streams are timed from the read that completed them
		used := c.h2.Feed(data, &l.out)
		l.keepH2(c, data, used)
		if c.h2.Done() {
			c.closing = true
		}
		more := l.batchFull() && len(c.in) >= 9 || c.h2.Busy()
		l.flush(c)
		if l.conns[c.fd] != c || c.linger {
			return
		}
		c.deadline = l.h2Deadline(c)
		if !more || len(c.out) > 0 || c.closing {
			break
		}
		l.out.Reset()
		data = c.in
	}
	if c.h2.Waiting() && !c.h2wait {
		c.h2wait = true
		l.h2wait = append(l.h2wait, c)
	}
}

// keepH2 saves the unused tail of data, an incomplete frame, for the next
// read.
func (l *loop) keepH2(c *conn, data []byte, used int) {
	rest := data[used:]
	c.need = 0
	switch {
	case len(rest) == 0:
		if cap(c.in) > readBufSize {
			c.in = nil
		}
		c.in = c.in[:0]
	case len(c.in) > 0 && &data[0] == &c.in[0]:
		c.in = c.in[:copy(c.in, rest)]
	default:
		c.in = append(c.in[:0], rest...)
	}
}

// h2Deadline is when the loop must next look at an HTTP/2 connection:
// its own deadlines, or the idle timeout for output the peer leaves
// unread.
func (l *loop) h2Deadline(c *conn) time.Time {
	if len(c.out) > 0 {
		return l.now.Add(l.cfg.IdleTimeout)
	}
	return c.h2.Deadline()
}

// expireH2 enforces an HTTP/2 connection's deadlines: incomplete streams
// get 408, an idle connection GOAWAY.
func (l *loop) expireH2(c *conn) {
	if len(c.out) > 0 {
		l.closeConn(c) // its output was left unread for the idle timeout
		return
	}
	l.out.Reset()
	l.batch = batch{}
	c.h2.Expire(l.now, &l.out)
	if c.h2.Done() {
		c.closing = true
	}
	l.flush(c)
	if l.conns[c.fd] == c && !c.linger {
		c.deadline = l.h2Deadline(c)
	}
}

// drainH2 sends GOAWAY to an HTTP/2 connection: it closes once its open
// streams are answered. One whose output waits for the socket gets it
// when the output is written (see serveH2).
func (l *loop) drainH2(c *conn) {
	if len(c.out) > 0 {
		return
	}
	l.out.Reset()
	l.serveH2(c, c.in)
}

// retryH2 feeds again the HTTP/2 connections whose requests wait for a
// concurrency slot.
func (l *loop) retryH2() {
	if len(l.h2wait) == 0 {
		return
	}
	waiting := l.h2wait
	l.h2wait, l.h2spare = l.h2spare[:0], nil
	for _, c := range waiting {
		c.h2wait = false
		if l.conns[c.fd] != c || c.closing || len(c.out) > 0 {
			continue
		}
		l.out.Reset()
		l.serveH2(c, c.in)
	}
	clear(waiting)
	l.h2spare = waiting[:0]
}
