package loadgen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/h1"
)

// flushDirty writes every connection's new requests, stamping those
// awaiting a send time (closed loop) with now.
func (l *h1Loop) flushDirty(now time.Time) {
	for _, c := range l.dirty {
		for i := c.unstamped; i < len(c.queue); i++ {
			c.queue[i].at = now
		}
		c.unstamped = len(c.queue)
		c.dirty = false
		if c.err == nil {
			l.flush(c)
		}
	}
	l.dirty = l.dirty[:0]
}

func (l *h1Loop) markDirty(c *h1Conn) {
	if !c.dirty {
		c.dirty = true
		l.dirty = append(l.dirty, c)
	}
}

// flush writes c's pending output, asking epoll for EPOLLOUT while the
// socket buffer is full.
func (l *h1Loop) flush(c *h1Conn) {
	for len(c.wbuf) > c.woff {
		n, err := unix.Write(c.fd, c.wbuf[c.woff:])
		if errors.Is(err, unix.EAGAIN) {
			l.watchOut(c, true)
			return
		}
		if err != nil {
			l.broken(c, os.NewSyscallError("write", err))
			return
		}
		c.woff += n
	}
	c.wbuf, c.woff = c.wbuf[:0], 0
	l.watchOut(c, false)
}

func (l *h1Loop) watchOut(c *h1Conn, on bool) {
	if c.wantOut == on {
		return
	}
	c.wantOut = on
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: c.id}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	_ = unix.EpollCtl(l.p.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev) // registered: cannot fail
}

// broken marks c as failed: what it had in flight is lost, and it is
// dropped from the epoll set.
func (l *h1Loop) broken(c *h1Conn, err error) {
	if c.err != nil {
		return
	}
	c.fail(err)
	c.err = err
	_ = unix.EpollCtl(l.p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
}

// receive reads what c's socket holds and records every whole answer.
func (l *h1Loop) receive(c *h1Conn, now time.Time) {
	for c.err == nil {
		if c.rlen == len(c.rbuf) && !c.grow() {
			l.broken(c, fmt.Errorf("answer larger than %d bytes", len(c.rbuf)))
			return
		}
		n, err := unix.Read(c.fd, c.rbuf[c.rlen:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return
		case err != nil:
			l.broken(c, os.NewSyscallError("read", err))
			return
		case n == 0:
			l.broken(c, io.ErrUnexpectedEOF)
			return
		}
		c.rlen += n
		l.parse(c, now)
		if c.rlen < len(c.rbuf) {
			return // the socket had no more
		}
	}
}

// parse records the whole answers at the start of c's buffer.
func (l *h1Loop) parse(c *h1Conn, now time.Time) {
	off := 0
	for c.err == nil {
		resp, n, err := c.parser.Parse(c.rbuf[off:c.rlen])
		if errors.Is(err, h1.ErrIncomplete) {
			break
		}
		if err != nil {
			l.broken(c, err)
			return
		}
		off += n
		if c.head == len(c.queue) {
			l.broken(c, errors.New("answer to no request"))
			return
		}
		p := c.queue[c.head]
		c.head++
		c.rec.answer(p.op, resp.Status, resp.Body, now.Sub(p.at), now)
		if resp.Close {
			l.broken(c, errServerClosed)
			return
		}
		if c.next != nil {
			l.issue(c)
		}
	}
	c.rlen = copy(c.rbuf, c.rbuf[off:c.rlen])
	c.compact()
}

// issue queues c's next closed-loop request, if its source has one and
// the step is not over.
func (l *h1Loop) issue(c *h1Conn) {
	if c.err != nil || !time.Now().Before(c.end) {
		return
	}
	op, ok := c.next()
	if !ok {
		return
	}
	c.enqueue(l.w, l.cfg.Addr, op, time.Time{}) // stamped at flush
	l.markDirty(c)
}
