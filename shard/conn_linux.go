package shard

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/http1"
)

// onEvent serves one connection's event. A connection waits for one thing
// at a time, and epoll watches only for that: input (EPOLLIN), room for
// queued output (EPOLLOUT alone, so that a client that shut its write side
// does not wake the loop over and over with EPOLLRDHUP), or, parked, for
// nothing but errors.
func (l *loop) onEvent(c *conn, ev uint32) {
	waiting := c.parked || len(c.out) > 0
	switch {
	case waiting && ev&(unix.EPOLLERR|unix.EPOLLHUP) != 0:
		l.closeConn(c) // reset: its answers can no longer be delivered
	case c.parked:
	case len(c.out) > 0:
		l.writePending(c)
	default:
		l.read(c)
	}
}

// read takes what the socket holds and answers the complete requests in it.
func (l *loop) read(c *conn) {
	data, ok := l.readInput(c)
	if !ok {
		return
	}
	if c.linger {
		return // a closing connection's input is dropped
	}
	l.serve(c, data)
}

// serve answers the complete requests at the start of data, in batches of
// about maxBatchOut bytes of answers, one write each. It stops when the
// socket does not take a whole batch: the rest of the input then waits in
// c.in for the output to drain, so a client that sends requests but does
// not read its answers makes the loop hold one batch, not all of them.
func (l *loop) serve(c *conn, data []byte) {
	if c.h2 != nil {
		l.out.Reset()
		l.serveH2(c, data)
		return
	}
	for {
		l.out.Reset()
		l.batch = batch{first: l.now, rest: l.now}
		if len(c.in) > 0 && &data[0] == &c.in[0] {
			l.batch.first = c.first
		}
		used, switched := l.process(c, data)
		if switched {
			l.serveH2(c, data[used:]) // after what l.out holds already
			return
		}
		l.keep(c, data, used)
		more := l.batchFull() && len(c.in) > 0
		l.flush(c)
		if !more || l.conns[c.fd] != c || len(c.out) > 0 || c.closing || c.parked {
			return
		}
		data = c.in
	}
}

// readInput reads once, into the connection's own buffer when it holds an
// unfinished request and into the loop's shared buffer otherwise. It
// reports false when the connection was closed.
func (l *loop) readInput(c *conn) ([]byte, bool) {
	buf := l.rbuf
	if len(c.in) > 0 {
		l.grow(c)
		buf = c.in[len(c.in):cap(c.in)]
	}
	n, errno := rawRead(c.fd, buf)
	switch {
	case errno == unix.EAGAIN || errno == unix.EINTR:
		return nil, false
	case errno != 0 || n == 0:
		// EOF or error: answers to complete requests are already out.
		l.closeConn(c)
		return nil, false
	}
	l.m.Received(n)
	if len(c.in) > 0 {
		c.in = c.in[:len(c.in)+n]
		return c.in, true
	}
	return buf[:n], true
}

// grow makes room in c.in for the rest of the request.
func (l *loop) grow(c *conn) {
	if cap(c.in)-len(c.in) >= minReadRoom && (c.need == 0 || cap(c.in) >= c.need) {
		return
	}
	want := max(2*cap(c.in), len(c.in)+inputGrowth, c.need)
	want = min(want, l.maxInput())
	if want <= cap(c.in) {
		want = cap(c.in) + minReadRoom // at the limit: FrameBody refuses what goes further
	}
	in := make([]byte, len(c.in), want)
	copy(in, c.in)
	c.in = in
}

// maxInput bounds the input one request may occupy: its head, its body and
// chunked framing.
func (l *loop) maxInput() int {
	return l.cfg.MaxHeaderSize + http1.MaxBodySpan(l.cfg.Limits.MaxValueSize)
}

// keep saves the unfinished tail of data, the start of a request, for the
// next read. The read deadline runs from a request's first byte.
func (l *loop) keep(c *conn, data []byte, used int) {
	rest := data[used:]
	if len(rest) == 0 {
		if cap(c.in) > readBufSize {
			c.in = nil // don't hold a large body's buffer on an idle connection
		}
		c.in = c.in[:0]
		c.need = 0
		c.deadline = l.now.Add(l.cfg.IdleTimeout)
		return
	}
	if used > 0 || len(c.in) == 0 {
		c.deadline = l.now.Add(l.cfg.ReadTimeout)
		c.first = l.now
	}
	if len(c.in) > 0 && &data[0] == &c.in[0] {
		c.in = c.in[:copy(c.in, rest)]
		return
	}
	c.in = append(c.in[:0], rest...)
}

// flush writes the batch's responses with one writev. What the socket does
// not take stays queued and the connection stops reading until it drains.
func (l *loop) flush(c *conn) {
	b := l.batch
	l.batch = batch{}
	if l.out.Len() == 0 {
		l.finish(c)
		return
	}
	n, errno := l.writev(c.fd)
	if errno != 0 && errno != unix.EAGAIN && errno != unix.EINTR {
		l.closeConn(c)
		return
	}
	l.m.Sent(n)
	if n < l.out.Len() {
		c.pending = b
		c.out = l.out.BytesFrom(n)
		// Unread answers count as idle time: if the client does not take
		// them within IdleTimeout, expire closes the connection.
		c.deadline = l.now.Add(l.cfg.IdleTimeout)
		l.modify(c, unix.EPOLLOUT)
		return
	}
	l.observe(b)
	l.finish(c)
}

// observe counts the latency of a batch's requests, whose answers' last
// bytes the kernel has just taken: one clock reading per write, not one
// per request.
func (l *loop) observe(b batch) {
	if b.n == 0 {
		return
	}
	now := l.now.Add(time.Since(l.now)) // monotonic only: one clock read
	l.m.Observe(now.Sub(b.first))
	if b.n > 1 {
		l.m.ObserveN(now.Sub(b.rest), b.n-1)
	}
}

// writePending writes queued output. Once all of it went, the connection
// reads again, after answering the requests that waited in c.in.
func (l *loop) writePending(c *conn) {
	n, errno := rawWrite(c.fd, c.out)
	if errno != 0 && errno != unix.EAGAIN && errno != unix.EINTR {
		l.closeConn(c)
		return
	}
	l.m.Sent(n)
	c.out = c.out[n:]
	if len(c.out) > 0 {
		return
	}
	c.out = nil
	l.observe(c.pending)
	c.pending = batch{}
	if !l.modify(c, unix.EPOLLIN|unix.EPOLLRDHUP) {
		return
	}
	l.finish(c)
	if l.conns[c.fd] != c || c.closing {
		return
	}
	if c.h2 != nil {
		l.out.Reset()
		l.serveH2(c, c.in)
		return
	}
	if len(c.in) == 0 {
		c.deadline = l.now.Add(l.cfg.IdleTimeout)
		return
	}
	c.deadline = l.now.Add(l.cfg.ReadTimeout)
	l.serve(c, c.in)
}

// finish ends a connection that was to close once its output was written:
// the write side is shut and the input drained for a while, so that the
// client reads the last answer before any reset.
func (l *loop) finish(c *conn) {
	if !c.closing || c.linger || l.conns[c.fd] != c {
		return
	}
	if l.draining && len(c.in) == 0 {
		l.closeConn(c)
		return
	}
	c.linger = true
	c.in = nil
	unix.Shutdown(c.fd, unix.SHUT_WR)
	c.deadline = l.now.Add(lingerPeriod)
}

// modify changes what epoll watches c for. If that fails, the connection
// would wait for what it no longer needs until its deadline: it is closed
// instead, counted in /stats as epoll_errors, and the first failure is
// logged. modify reports whether c is still open.
func (l *loop) modify(c *conn, events uint32) bool {
	if err := l.ctl(unix.EPOLL_CTL_MOD, c.fd, events); err != nil {
		l.epollFailed(err, "closing the connection")
		l.closeConn(c)
		return false
	}
	return true
}

// epollFailed counts a failed epoll_ctl and logs the first one.
func (l *loop) epollFailed(err error, action string) {
	l.s.count.epollErrors.Add(1)
	if !l.warnedEpoll {
		l.warnedEpoll = true
		l.cfg.Logf("shard %d: %v: %s (further failures are only counted, as epoll_errors in /stats)", l.s.plan.Shard, err, action)
	}
}

func (l *loop) closeConn(c *conn) {
	if l.conns[c.fd] != c {
		return
	}
	if c.h2 != nil {
		c.h2.Close() // gives back its streams' concurrency slots
	}
	unix.Close(c.fd)
	l.conns[c.fd] = nil
	l.open--
	l.s.count.open.Add(-1)
}

// park puts a connection aside until a concurrency slot frees up. Epoll
// reports only its errors meanwhile: a client that sent its request and
// shut its write side still gets its answer.
func (l *loop) park(c *conn) {
	c.parked = true
	l.parked = append(l.parked, c)
	l.m.SlotWait()
	l.modify(c, 0)
}

func (l *loop) retryParked() {
	if len(l.parked) == 0 {
		return
	}
	parked := l.parked
	l.parked = nil
	for _, c := range parked {
		c.parked = false
		if l.conns[c.fd] != c || !l.modify(c, unix.EPOLLIN|unix.EPOLLRDHUP) {
			continue
		}
		l.serve(c, c.in)
	}
}
