package shard

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/http1"
	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/socket"
)

// accept takes new connections from the shard's listener, as long as the
// shard holds fewer than MaxConns.
func (l *loop) accept() {
	for i := 0; i < acceptBatch && !l.draining && !l.full(); i++ {
		fd, _, err := socket.Accept(l.lfd)
		switch {
		case err == nil:
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ECONNABORTED), errors.Is(err, unix.EINTR):
			return
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE), errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
			l.pauseAccept(err)
			return
		default:
			l.cfg.Logf("shard %d: accept: %v", l.s.plan.Shard, err)
			return
		}
		if err := l.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
			unix.Close(fd)
			continue
		}
		for fd >= len(l.conns) {
			l.conns = append(l.conns, make([]*conn, len(l.conns)+connsGrowth)...)
		}
		l.conns[fd] = &conn{fd: fd, deadline: l.now.Add(l.cfg.IdleTimeout)}
		l.open++
		l.starved = false
		l.m.Accepted()
		l.s.count.open.Add(1)
	}
}

// full reports whether the shard holds MaxConns connections, its HTTP/2
// ones included.
func (l *loop) full() bool {
	max := int64(l.cfg.MaxConns)
	if l.s.count.open.Load() < max {
		return false
	}
	if !l.warnedFull {
		l.warnedFull = true
		l.cfg.Logf("shard %d: %d connections open, the most allowed (MaxConns): new ones wait in the accept queue", l.s.plan.Shard, max)
	}
	return true
}

// pauseAccept stops taking connections for a while when the process is out
// of descriptors or memory: a level-triggered listener would otherwise wake
// the loop in a busy spin. Established connections go on being served.
func (l *loop) pauseAccept(err error) {
	if !l.starved {
		l.starved = true
		l.cfg.Logf("shard %d: accept paused for %v: %v", l.s.plan.Shard, acceptPause, err)
	}
	l.acceptAfter = l.now.Add(acceptPause)
	l.m.Paused(metrics.PauseDescriptors)
	l.arm()
}

// arm arms the listener in epoll when the loop may accept, and disarms it
// while it may not: during the drain, during a pause for want of
// descriptors, and while the shard holds MaxConns connections (further ones
// then wait in the kernel's accept queue).
func (l *loop) arm() {
	want := !l.draining && l.acceptAfter.IsZero() && !l.full()
	if want == l.accepting {
		return
	}
	var events uint32
	switch {
	case want:
		events = unix.EPOLLIN
	case l.draining:
		l.accepting = false
		return // the drain took the listener out of epoll already
	}
	if err := l.ctl(unix.EPOLL_CTL_MOD, l.lfd, events); err != nil {
		l.epollFailed(err, "arming the listener is retried")
		return
	}
	if !want && l.acceptAfter.IsZero() {
		l.m.Paused(metrics.PauseMaxConns)
	}
	l.accepting = want
}

// maintain arms or disarms the listener and, a few times a second,
// enforces the connections' deadlines and does the loop's share of the
// store's background work (reuse, eviction ahead, expiry, compaction).
func (l *loop) maintain() {
	if !l.acceptAfter.IsZero() && !l.now.Before(l.acceptAfter) {
		l.acceptAfter = time.Time{}
	}
	l.arm()
	if l.now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = l.now.Add(sweepEvery)
	l.st.Maintain()
	for _, c := range l.conns {
		if c != nil && !c.deadline.IsZero() && l.now.After(c.deadline) {
			l.expire(c)
		}
	}
}

// expire ends a connection whose deadline passed: an idle or lingering one
// is closed, and so is one whose answers were left unread; one in the
// middle of a request gets 408 first. A parked one is left alone: its
// request arrived whole and waits for the server (see ConcurrencyLimit).
func (l *loop) expire(c *conn) {
	if c.parked {
		return
	}
	if c.h2 != nil && !c.linger {
		l.expireH2(c)
		return
	}
	if len(c.in) > 0 && !c.linger && len(c.out) == 0 {
		l.m.TimedOut(metrics.TimeoutRead)
		l.m.Request(metrics.RouteNone, metrics.MethodOther, http1.ErrTimeout.Status, metrics.HTTP11)
		l.out.Reset()
		l.batch = batch{} // not timed: it never arrived whole
		l.out.Refuse(http1.ErrTimeout, l.date)
		c.closing = true
		l.flush(c)
		return
	}
	switch {
	case len(c.out) > 0:
		l.m.TimedOut(metrics.TimeoutWrite)
	case !c.linger:
		l.m.TimedOut(metrics.TimeoutIdle)
	}
	l.closeConn(c)
}

// startDrain begins the graceful shutdown: no more connections; idle ones
// close now; the others close after their current request.
func (l *loop) startDrain() {
	if l.draining {
		return
	}
	l.draining = true
	l.accepting = false
	l.deadline = l.now.Add(l.cfg.ShutdownTimeout)
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, l.lfd, nil)
	l.s.ln.Close()
	for _, c := range l.conns {
		switch {
		case c == nil || c.linger:
		case c.h2 != nil:
			l.drainH2(c)
		case len(c.in) == 0 && len(c.out) == 0:
			l.closeConn(c)
		}
	}
}
