package loadgen

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// flush writes c's pending output, asking epoll for EPOLLOUT while the
// socket buffer is full.
func (c *h2Conn) flush() {
	for len(c.wbuf) > c.woff {
		n, err := unix.Write(c.fd, c.wbuf[c.woff:])
		if errors.Is(err, unix.EAGAIN) {
			c.watchOut(true)
			return
		}
		if err != nil {
			c.broken(os.NewSyscallError("write", err))
			return
		}
		c.woff += n
	}
	c.wbuf, c.woff = c.wbuf[:0], 0
	c.watchOut(false)
}

func (c *h2Conn) watchOut(on bool) {
	if c.wantOut == on || c.epfd < 0 {
		return
	}
	c.wantOut = on
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: c.id}
	if on {
		ev.Events |= unix.EPOLLOUT
	}
	_ = unix.EpollCtl(c.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev) // registered: cannot fail
}

// broken marks c as failed: what it had in flight or waiting is lost,
// and it is dropped from the epoll set.
func (c *h2Conn) broken(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	c.fail(err)
	if c.epfd >= 0 {
		_ = unix.EpollCtl(c.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// fail counts every request c has in flight or waiting as lost for err.
func (c *h2Conn) fail(err error) {
	for _, s := range c.streams {
		c.rec.lost(s.op, err)
	}
	clear(c.streams)
	for range c.due[c.dueHead:] {
		c.rec.lost(c.gen.Next(), err)
	}
	c.due, c.dueHead, c.blocked, c.unstamped = c.due[:0], 0, nil, c.unstamped[:0]
}

// inFlight returns the requests c has sent and not had answered, and
// those waiting for a stream.
func (c *h2Conn) inFlight() int {
	return len(c.streams) + len(c.due) - c.dueHead
}

// stamp gives the requests sent since the last flush their send time.
func (c *h2Conn) stamp(now time.Time) {
	for _, s := range c.unstamped {
		s.at = now
	}
	c.unstamped = c.unstamped[:0]
}
