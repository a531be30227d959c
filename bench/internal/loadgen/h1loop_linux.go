package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/h1"
	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// h1Loop drives every HTTP/1.1 connection of a step from one goroutine
// over non-blocking sockets in an epoll set, rather than from goroutines
// that the runtime parks and wakes per request: the generator must cost
// far less than the server it measures.
//
// By default the loop busy-polls (epoll_wait with a zero timeout) and
// keeps its CPU: on a CPU of its own that costs nothing, and it answers
// at once, where waking a thread from idle costs tens of microseconds
// (about 70µs of CPU time per wake-up in a Firecracker VM measured here,
// more than the server spends on a request) and delays both the sends
// and the timestamps of the answers. With Config.Block it blocks in
// epoll_wait instead, woken by a timerfd for the pacer (nanosecond
// precision, where Go's own timers round to milliseconds) or an eventfd
// on cancellation: for a client that shares its CPUs with the server.
type h1Loop struct {
	cfg    Config
	w      *workload.Workload
	rec    *recorder // one goroutine, one recorder for every connection
	epfd   int
	timer  int
	wake   int
	armed  time.Time
	conns  []*h1Conn
	dirty  []*h1Conn // connections with requests to write
	events []unix.EpollEvent
	busy   time.Duration // time spent on events and sends, not polling
}

// Event ids of the two non-connection descriptors.
const (
	timerID = -1
	wakeID  = -2
)

func newH1Loop(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) (*h1Loop, error) {
	l := &h1Loop{cfg: cfg, w: w, rec: newRecorder(w), epfd: -1, timer: -1, wake: -1, events: make([]unix.EpollEvent, 256)}
	if err := l.open(ctx, seed); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *h1Loop) open(ctx context.Context, seed uint64) error {
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if l.timer, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return os.NewSyscallError("timerfd_create", err)
	}
	if l.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	if err := l.add(l.timer, timerID, unix.EPOLLIN); err != nil {
		return err
	}
	if err := l.add(l.wake, wakeID, unix.EPOLLIN); err != nil {
		return err
	}
	for i := range l.cfg.Conns {
		c, err := dialH1Conn(ctx, l.cfg, l.w, l.rec, seed+uint64(i))
		if err != nil {
			return err
		}
		c.id = int32(i)
		l.conns = append(l.conns, c)
		if err := l.add(c.fd, int32(i), unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
			return err
		}
	}
	return nil
}

func (l *h1Loop) add(fd int, id int32, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: id}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (l *h1Loop) close() {
	for _, c := range l.conns {
		unix.Close(c.fd)
	}
	for _, fd := range []int{l.epfd, l.timer, l.wake} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func (l *h1Loop) recorders() []*recorder {
	return []*recorder{l.rec}
}

// arm sets the timer to fire at t, unless it already does.
func (l *h1Loop) arm(t time.Time) {
	if t.Equal(l.armed) {
		return
	}
	l.armed = t
	d := max(time.Until(t), 1) // 0 would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	_ = unix.TimerfdSettime(l.timer, 0, &spec, nil) // arguments are valid: cannot fail
}

// watchCancel makes cancellation of ctx wake the loop.
func (l *h1Loop) watchCancel(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		var one = [8]byte{1}
		_, _ = unix.Write(l.wake, one[:])
	})
}

// wait waits for something to happen, until at the latest (in Block
// mode; polling returns at once), and handles it: answers are read and
// recorded, pending output is written. It reports whether ctx was
// cancelled.
func (l *h1Loop) wait(ctx context.Context, until time.Time) (cancelled bool) {
	timeout := 0
	if l.cfg.Block {
		l.arm(until)
		timeout = -1
	} else if ctx.Err() != nil {
		return true
	}
	n, err := unix.EpollWait(l.epfd, l.events, timeout)
	if err != nil || n == 0 {
		return false // EINTR or nothing yet: look again
	}
	now := time.Now()
	for _, ev := range l.events[:n] {
		switch ev.Fd {
		case timerID:
			var buf [8]byte
			_, _ = unix.Read(l.timer, buf[:])
			l.armed = time.Time{}
		case wakeID:
			cancelled = true
		default:
			c := l.conns[ev.Fd]
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
				l.receive(c, now)
			}
			if ev.Events&unix.EPOLLOUT != 0 && c.err == nil {
				l.flush(c)
			}
		}
	}
	l.flushDirty(time.Now())
	l.busy += time.Since(now)
	return cancelled
}

// inFlight returns the number of requests sent and not yet answered.
func (l *h1Loop) inFlight() int {
	n := 0
	for _, c := range l.conns {
		n += len(c.queue) - c.head
	}
	return n
}

// giveUp counts every request still in flight as lost for err.
func (l *h1Loop) giveUp(err error) {
	for _, c := range l.conns {
		c.fail(err)
	}
}

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
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev) // registered: cannot fail
}

// broken marks c as failed: what it had in flight is lost, and it is
// dropped from the epoll set.
func (l *h1Loop) broken(c *h1Conn, err error) {
	if c.err != nil {
		return
	}
	c.fail(err)
	c.err = err
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
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

// runOpen paces the plan over the connections until every request is
// answered or given up at deadline.
func (l *h1Loop) runOpen(ctx context.Context, plan schedule.Plan, deadline time.Time) {
	stop := l.watchCancel(ctx)
	defer stop()
	pacer := schedule.NewPacer(plan, maxBatch)
	next, more := plan.Start, plan.Total() > 0
	send := func(lane int, batch []schedule.Due) {
		c := l.conns[lane]
		for _, d := range batch {
			op := c.gen.Next()
			c.rec.lateBy(d.Late)
			if c.err != nil {
				c.rec.lost(op, c.err)
				continue
			}
			c.enqueue(l.w, l.cfg.Addr, op, d.Intended)
		}
		c.unstamped = len(c.queue)
		l.markDirty(c)
	}
	for {
		now := time.Now()
		if more && !next.After(now) {
			next, more = pacer.Fire(now, send)
			l.flushDirty(now)
			l.busy += time.Since(now)
			continue // the next may be due already
		}
		if !more && l.inFlight() == 0 {
			return
		}
		if now.After(deadline) {
			l.giveUp(fmt.Errorf("no answer %v after the last send: %w", l.cfg.Timeout, os.ErrDeadlineExceeded))
			return
		}
		until := deadline
		if more {
			until = next
		}
		if l.wait(ctx, until) {
			l.giveUp(ctx.Err())
			return
		}
	}
}

// runClosed keeps cfg.Pipeline requests in flight on every connection
// until end, then waits for the answers until end + Timeout. next, when
// set, returns each connection's operation source instead of its
// generator; the run then also ends when they all run dry.
func (l *h1Loop) runClosed(ctx context.Context, end time.Time, next func(conn int) func() (workload.Op, bool)) {
	stop := l.watchCancel(ctx)
	defer stop()
	for i, c := range l.conns {
		c.end = end
		if next != nil {
			c.next = next(i)
		} else {
			c.next = func() (workload.Op, bool) { return c.gen.Next(), true }
		}
		for range l.cfg.Pipeline {
			l.issue(c)
		}
	}
	l.flushDirty(time.Now())
	deadline := end.Add(l.cfg.Timeout)
	for l.inFlight() > 0 {
		if time.Now().After(deadline) {
			l.giveUp(fmt.Errorf("no answer %v after the end: %w", l.cfg.Timeout, os.ErrDeadlineExceeded))
			return
		}
		if l.wait(ctx, deadline) {
			l.giveUp(ctx.Err())
			return
		}
	}
}

// h1Conn is one connection of an h1Loop.
type h1Conn struct {
	id     int32
	fd     int // a non-blocking socket, outside the Go runtime's poller
	gen    *workload.Generator
	rec    *recorder
	parser h1.Parser

	key  []byte // scratch for a key's name
	rbuf []byte // rbuf[:rlen] is read and not yet parsed
	rlen int
	wbuf []byte // wbuf[woff:] is to be written
	woff int

	queue     []pending // sent, in order; queue[head:] awaits answers
	head      int
	unstamped int // queue[unstamped:] has no send time yet
	wantOut   bool
	dirty     bool
	err       error

	next func() (workload.Op, bool) // closed loop: the operation source
	end  time.Time                  // closed loop: no new request from then on
}

type pending struct {
	op workload.Op
	at time.Time
}

// readBuf is a connection's initial read buffer.
const readBuf = 64 << 10

func dialH1Conn(ctx context.Context, cfg Config, w *workload.Workload, rec *recorder, seed uint64) (*h1Conn, error) {
	fd, err := dialRaw(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	return &h1Conn{fd: fd, gen: w.Generator(seed), rec: rec, rbuf: make([]byte, readBuf)}, nil
}

// dialRaw connects a non-blocking TCP socket to addr with system calls
// of its own. A socket dialled with package net would also sit in the Go
// runtime's epoll set, and every answer would wake an idle runtime thread
// on the client's CPU for nothing.
func dialRaw(ctx context.Context, addr string) (int, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return -1, err
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: ta.Port, Addr: [4]byte(ip4)}
	} else {
		sa = &unix.SockaddrInet6{Port: ta.Port, Addr: [16]byte(ta.IP.To16())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := connect(ctx, fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	return fd, nil
}

// connect connects the non-blocking socket fd, waiting for the handshake
// until ctx is done or dialTimeout passes.
func connect(ctx context.Context, fd int, sa unix.Sockaddr) error {
	err := unix.Connect(fd, sa)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINPROGRESS) {
		return os.NewSyscallError("connect", err)
	}
	deadline := time.Now().Add(dialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := min(time.Until(deadline), 50*time.Millisecond)
		if wait <= 0 {
			return fmt.Errorf("connect: %w", os.ErrDeadlineExceeded)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, int(wait.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return os.NewSyscallError("getsockopt SO_ERROR", err)
		}
		if soErr != 0 {
			return os.NewSyscallError("connect", unix.Errno(soErr))
		}
		return nil
	}
}

// dialTimeout bounds a connection's handshake.
const dialTimeout = 5 * time.Second

// enqueue appends op's request to the output and to the queue.
func (c *h1Conn) enqueue(w *workload.Workload, host string, op workload.Op, at time.Time) {
	c.key = workload.AppendKey(c.key[:0], op.Key)
	if op.Kind == workload.Get {
		c.wbuf = h1.AppendGet(c.wbuf, host, c.key)
	} else {
		c.wbuf = h1.AppendStoreHead(c.wbuf, host, c.key, w.Config().ValueSize)
		c.wbuf = w.AppendValue(c.wbuf, op.Key, op.Version)
	}
	c.queue = append(c.queue, pending{op: op, at: at})
	c.rec.sent++
}

// compact drops the answered part of the queue once it is most of it.
func (c *h1Conn) compact() {
	if c.head < 1024 && c.head < len(c.queue) || 2*c.head < len(c.queue) {
		return
	}
	n := copy(c.queue, c.queue[c.head:])
	c.queue = c.queue[:n]
	c.unstamped -= c.head
	c.head = 0
}

// fail counts what c has in flight as lost for err.
func (c *h1Conn) fail(err error) {
	for _, p := range c.queue[c.head:] {
		c.rec.lost(p.op, err)
	}
	c.queue, c.head, c.unstamped = c.queue[:0], 0, 0
}

// grow doubles the read buffer for an answer that does not fit, up to
// the largest body allowed and some room for its head.
func (c *h1Conn) grow() bool {
	limit := c.parser.MaxBody
	if limit == 0 {
		limit = 64 << 20
	}
	if len(c.rbuf) >= limit+readBuf {
		return false
	}
	b := make([]byte, 2*len(c.rbuf))
	copy(b, c.rbuf[:c.rlen])
	c.rbuf = b
	return true
}
