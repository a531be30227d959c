package shard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/socket"
)

const defaultEngine = EngineLoop

func checkEngine(string) error { return nil }

const (
	readBufSize  = 64 << 10 // the loop's shared read buffer
	maxEvents    = 256      // events taken per epoll_wait
	acceptBatch  = 64       // connections accepted per listener wake-up
	acceptPause  = 100 * time.Millisecond
	sweepEvery   = 250 * time.Millisecond
	lingerPeriod = 2 * time.Second // how long a closing connection is drained
	parkedRetry  = 1               // ms between retries of connections waiting for a slot
	maxBatchOut  = 256 << 10       // answers gathered for one write before the rest of the input waits
)

// serveLoop runs the shard's event loop on the calling goroutine, locked to
// its thread. The thread is never unlocked: when the loop ends the goroutine
// exits locked and the runtime ends the thread with it, so a pinned mask
// never leaks into the runtime's thread pool.
func (s *Shard) serveLoop(ctx context.Context) error {
	runtime.LockOSThread()
	s.tid.Store(int64(unix.Gettid()))
	if s.g.cfg.Pin {
		if err := affinity.Pin([]int{s.plan.CPU}); err != nil {
			return fmt.Errorf("shard %d: pin to CPU %d: %w", s.plan.Shard, s.plan.CPU, err)
		}
		s.pinned.Store(true)
	}
	l, err := newLoop(s)
	if err != nil {
		return err
	}
	defer l.close()
	s.wake = l.wake
	stop := context.AfterFunc(ctx, l.stop)
	defer stop()
	err = l.run()
	dctx, cancel := context.WithDeadline(context.Background(), l.deadline)
	defer cancel()
	s.h2.wait(dctx)
	return err
}

// loop is one shard's event loop. Only its own thread touches it.
type loop struct {
	s       *Shard
	cfg     *Config
	epfd    int
	wakefd  int
	lfd     int
	conns   []*conn // by file descriptor
	open    int
	events  []unix.EpollEvent
	rbuf    []byte
	out     outBuf
	iov     []unix.Iovec
	key     []byte
	req     request
	parked  []*conn
	now     time.Time
	date    []byte
	dateSec int64

	nextSweep   time.Time
	accepting   bool      // the listener is armed in epoll
	acceptAfter time.Time // accepting is paused until then (out of descriptors)
	starved     bool      // the last accept failed for want of descriptors
	warnedFull  bool      // MaxConns was reached once and logged
	draining    bool
	deadline    time.Time // end of the drain

	stopping atomic.Bool // Serve's context ended: drain (set by another goroutine)
	wakeMu   sync.Mutex  // guards wakefd against close while another goroutine wakes
}

// conn is one HTTP/1 connection of a loop.
type conn struct {
	fd       int
	in       []byte // input kept between reads: the start of an unfinished request
	out      []byte // output the socket has not taken yet
	need     int    // bytes the unfinished request needs in all, when known
	closing  bool   // close once out is written
	linger   bool   // write side shut; discarding input until EOF
	sent100  bool   // 100 Continue sent for the request in progress
	parked   bool   // waiting for a concurrency slot
	served   uint64
	deadline time.Time // idle or read deadline
}

func newLoop(s *Shard) (*loop, error) {
	l := &loop{s: s, cfg: &s.g.cfg, epfd: -1, wakefd: -1, lfd: s.ln.FD}
	l.init()
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if l.wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		l.close()
		return nil, os.NewSyscallError("eventfd", err)
	}
	for _, fd := range []int{l.lfd, l.wakefd} {
		if err := l.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLIN); err != nil {
			l.close()
			return nil, err
		}
	}
	l.accepting = true
	return l, nil
}

// init sets up what the request path needs, without any descriptor, so that
// tests can drive it in memory.
func (l *loop) init() {
	l.events = make([]unix.EpollEvent, maxEvents)
	l.rbuf = make([]byte, readBufSize)
	l.iov = make([]unix.Iovec, 0, 64)
	l.key = make([]byte, 0, 256)
	l.tick(l.cfg.Now())
}

func (l *loop) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, op, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// wake interrupts epoll_wait from another goroutine: to start the drain,
// or to accept again after an HTTP/2 connection closed at MaxConns.
func (l *loop) wake() {
	var one = [8]byte{1}
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	if l.wakefd >= 0 {
		unix.Write(l.wakefd, one[:])
	}
}

// stop asks the loop to drain, from another goroutine.
func (l *loop) stop() {
	l.stopping.Store(true)
	l.wake()
}

// onWake resets the eventfd, which would otherwise stay readable and keep
// epoll_wait from ever blocking again, and starts the drain if asked to.
func (l *loop) onWake() {
	var b [8]byte
	unix.Read(l.wakefd, b[:])
	if l.stopping.Load() {
		l.startDrain()
	}
}

func (l *loop) close() {
	for _, c := range l.conns {
		if c != nil {
			l.closeConn(c)
		}
	}
	if !l.draining {
		l.s.ln.Close()
	}
	if l.epfd >= 0 {
		unix.Close(l.epfd)
	}
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	if l.wakefd >= 0 {
		unix.Close(l.wakefd)
		l.wakefd = -1
	}
}

// run is the loop: wait, accept, read, answer, write.
func (l *loop) run() error {
	for {
		n, err := l.wait(l.timeout())
		if err != nil {
			return err
		}
		l.tick(l.cfg.Now())
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			switch fd := int(ev.Fd); fd {
			case l.lfd:
				l.accept()
			case l.wakefd:
				l.onWake()
			default:
				if fd < len(l.conns) && l.conns[fd] != nil {
					l.onEvent(l.conns[fd], ev.Events)
				}
			}
		}
		l.retryParked()
		l.maintain()
		if l.draining && (l.open == 0 || !l.now.Before(l.deadline)) {
			return nil
		}
	}
}

// wait returns ready events. Under load events are already there and a
// raw, non-blocking epoll_pwait finds them without the runtime's syscall
// hand-off; only an idle loop blocks, through the ordinary syscall path.
func (l *loop) wait(timeout int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	if e == 0 && r > 0 || timeout == 0 {
		return int(r), nil
	}
	for {
		n, err := unix.EpollWait(l.epfd, l.events, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("epoll_wait", err)
		}
		return n, nil
	}
}

// timeout is how long epoll may block, in milliseconds.
func (l *loop) timeout() int {
	switch {
	case len(l.parked) > 0:
		return parkedRetry
	case l.open == 0 && l.acceptAfter.IsZero() && !l.draining:
		return -1
	}
	return int(sweepEvery / time.Millisecond)
}

// tick advances the loop's clock and, once a second, its Date header.
func (l *loop) tick(now time.Time) {
	l.now = now
	if sec := now.Unix(); sec != l.dateSec || l.date == nil {
		l.dateSec = sec
		l.date = now.UTC().AppendFormat(l.date[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
	}
}

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
			l.conns = append(l.conns, make([]*conn, len(l.conns)+64)...)
		}
		l.conns[fd] = &conn{fd: fd, deadline: l.now.Add(l.cfg.IdleTimeout)}
		l.open++
		l.starved = false
		l.s.count.accepted.Add(1)
		l.s.count.open.Add(1)
	}
}

// full reports whether the shard holds MaxConns connections, its HTTP/2
// ones included. It raises the shard's acceptFull before it looks a last
// time, so that an HTTP/2 connection closing meanwhile wakes the loop (see
// Shard.connDone).
func (l *loop) full() bool {
	max := int64(l.cfg.MaxConns)
	if l.s.count.open.Load() < max {
		return false
	}
	l.s.acceptFull.Store(true)
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
	l.accepting = want
	switch {
	case want:
		l.s.acceptFull.Store(false)
		l.ctl(unix.EPOLL_CTL_MOD, l.lfd, unix.EPOLLIN)
	case !l.draining: // the drain took the listener out of epoll already
		l.ctl(unix.EPOLL_CTL_MOD, l.lfd, 0)
	}
}

// maintain arms or disarms the listener and, a few times a second,
// enforces the connections' deadlines.
func (l *loop) maintain() {
	if !l.acceptAfter.IsZero() && !l.now.Before(l.acceptAfter) {
		l.acceptAfter = time.Time{}
	}
	l.arm()
	if l.now.Before(l.nextSweep) {
		return
	}
	l.nextSweep = l.now.Add(sweepEvery)
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
	if len(c.in) > 0 && !c.linger && len(c.out) == 0 {
		l.out.reset()
		l.out.problem(errTimeout, "", l.date, false, false, false)
		c.closing = true
		l.flush(c)
		return
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
		if c != nil && len(c.in) == 0 && len(c.out) == 0 {
			l.closeConn(c)
		}
	}
}

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
	for {
		l.out.reset()
		used, handedOff := l.process(c, data)
		if handedOff {
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
	if len(c.in) > 0 {
		c.in = c.in[:len(c.in)+n]
		return c.in, true
	}
	return buf[:n], true
}

// grow makes room in c.in for the rest of the request.
func (l *loop) grow(c *conn) {
	if cap(c.in)-len(c.in) >= 4096 && (c.need == 0 || cap(c.in) >= c.need) {
		return
	}
	want := max(2*cap(c.in), len(c.in)+16<<10, c.need)
	want = min(want, l.maxInput())
	if want <= cap(c.in) {
		want = cap(c.in) + 4096 // over the limit: the parser will refuse it
	}
	in := make([]byte, len(c.in), want)
	copy(in, c.in)
	c.in = in
}

// maxInput bounds the input one request may occupy: its head, its body and
// chunked framing.
func (l *loop) maxInput() int {
	return l.cfg.MaxHeaderSize + 2*l.cfg.Limits.MaxValueSize + 64<<10
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
	l.out.mark()
	if l.out.size == 0 {
		l.finish(c)
		return
	}
	n, errno := l.writev(c.fd)
	if errno != 0 && errno != unix.EAGAIN && errno != unix.EINTR {
		l.closeConn(c)
		return
	}
	if n < l.out.size {
		c.out = l.out.bytesFrom(n)
		// Unread answers count as idle time: if the client does not take
		// them within IdleTimeout, expire closes the connection.
		c.deadline = l.now.Add(l.cfg.IdleTimeout)
		l.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLOUT)
		return
	}
	l.finish(c)
}

// writePending writes queued output. Once all of it went, the connection
// reads again, after answering the requests that waited in c.in.
func (l *loop) writePending(c *conn) {
	n, errno := rawWrite(c.fd, c.out)
	if errno != 0 && errno != unix.EAGAIN && errno != unix.EINTR {
		l.closeConn(c)
		return
	}
	c.out = c.out[n:]
	if len(c.out) > 0 {
		return
	}
	c.out = nil
	l.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN|unix.EPOLLRDHUP)
	l.finish(c)
	if l.conns[c.fd] != c || c.closing {
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

func (l *loop) closeConn(c *conn) {
	if l.conns[c.fd] != c {
		return
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
	l.ctl(unix.EPOLL_CTL_MOD, c.fd, 0)
}

func (l *loop) retryParked() {
	if len(l.parked) == 0 {
		return
	}
	parked := l.parked
	l.parked = nil
	for _, c := range parked {
		c.parked = false
		if l.conns[c.fd] != c {
			continue
		}
		l.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN|unix.EPOLLRDHUP)
		l.serve(c, c.in)
	}
}

// handOff moves the connection to the HTTP/2 server: it leaves the loop,
// and a goroutine sends pending and serves it with prefix as its first
// input. It stays counted open (and against MaxConns) until that ends.
func (l *loop) handOff(c *conn, prefix []byte, pending []byte, upgrade *requestUpgrade) {
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	l.conns[c.fd] = nil
	l.open--
	f := os.NewFile(uintptr(c.fd), "h2c")
	nc, err := net.FileConn(f) // a duplicate in the runtime's poller
	f.Close()
	if err != nil {
		l.s.count.open.Add(-1)
		return
	}
	// The drain waits for s.h2 only once run has returned, on this
	// goroutine: the reservation cannot fail.
	cc := &countedConn{Conn: nc, s: l.s}
	if !l.s.h2.reserve() {
		cc.Close()
		return
	}
	l.s.h2.track(cc)
	h := handoff{conn: cc, prefix: append([]byte(nil), prefix...), greeting: pending}
	if upgrade != nil {
		h.greeting = append(h.greeting, switching...)
		h.upgrade, h.settings = upgrade.req, upgrade.settings
	}
	go l.s.serveH2(h)
}

func (l *loop) writev(fd int) (int, unix.Errno) {
	l.iov = l.iov[:0]
	for _, s := range l.out.segs {
		p := s.ext
		if p == nil {
			p = l.out.b[s.off:s.end]
		}
		l.iov = append(l.iov, unix.Iovec{Base: &p[0], Len: uint64(len(p))})
	}
	total := 0
	for iov := l.iov; len(iov) > 0; {
		k := min(len(iov), 1024) // IOV_MAX
		r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
		if e != 0 {
			return total, e
		}
		total += int(r)
		want := 0
		for _, v := range iov[:k] {
			want += int(v.Len)
		}
		if int(r) < want {
			return total, 0
		}
		iov = iov[k:]
	}
	return total, 0
}

// rawRead and rawWrite are read(2) and write(2) on non-blocking sockets.
// They never block, so they skip the runtime's syscall bookkeeping.
func rawRead(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func rawWrite(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}
