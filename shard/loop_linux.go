package shard

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
	"github.com/corekv/corekv/internal/http2"
	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/store"
)

const defaultEngine = EngineLoop

func checkEngine(string) error { return nil }

const (
	readBufSize  = 64 << 10 // the loop's shared read buffer
	maxEvents    = 256      // events taken per epoll_wait
	acceptBatch  = 64       // connections accepted per listener wake-up
	acceptPause  = 100 * time.Millisecond
	sweepEvery   = 250 * time.Millisecond
	lingerPeriod = 2 * time.Second      // how long a closing connection is drained
	parkedRetry  = time.Millisecond     // between retries of connections waiting for a slot
	maxBatchOut  = 256 << 10            // answers gathered for one write before the rest of the input waits
	yieldEvery   = 2 * time.Millisecond // see loop.yield
	// minReadRoom is the least free room a connection's input buffer
	// offers a read; inputGrowth the least it grows by.
	minReadRoom = 4096
	inputGrowth = 16 << 10
	// connsGrowth is how many slots the table of connections by
	// descriptor grows by beyond the descriptor that needs one.
	connsGrowth = 64
	// iovecsHint is the writev vectors a loop makes room for up front.
	iovecsHint = 64
)

// serveLoop runs the shard's event loop on the calling goroutine, locked to
// its thread. The thread is never unlocked: when the loop ends the goroutine
// exits locked and the runtime ends the thread with it, so a pinned mask
// never leaks into the runtime's thread pool.
func (s *shard) serveLoop(ctx context.Context) error {
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
	s.h2srv.Store(l.h2)
	stop := context.AfterFunc(ctx, l.stop)
	defer stop()
	s.serving.Store(true)
	err = l.run()
	s.serving.Store(false)
	return err
}

// loop is one shard's event loop. Only its own thread touches it.
type loop struct {
	s       *shard
	cfg     *Config
	epfd    int
	wakefd  int
	lfd     int
	conns   []*conn // by file descriptor
	open    int
	events  []unix.EpollEvent
	rbuf    []byte
	mapped  []byte // what mapBuffers mapped, unmapped by close
	out     http1.Out
	segs    [][]byte
	iov     []unix.Iovec
	key     []byte
	req     http1.Request
	exec    *api.Exec
	st      *store.Shard // the loop's handle on the store: see run
	body    loopBody
	parked  []*conn
	h2      *http2.Server
	h2wait  []*conn // HTTP/2 connections whose requests wait for a slot
	h2spare []*conn
	m       *metrics.Counters // the shard's, this thread's to write
	batch   batch             // the requests answered in the batch being built
	now     time.Time
	date    []byte
	dateSec int64

	nextSweep   time.Time
	yielded     time.Time // the last yield
	accepting   bool      // the listener is armed in epoll
	acceptAfter time.Time // accepting is paused until then (out of descriptors)
	starved     bool      // the last accept failed for want of descriptors
	warnedFull  bool      // MaxConns was reached once and logged
	warnedEpoll bool      // an epoll_ctl failure was logged
	draining    bool
	deadline    time.Time // end of the drain

	stopping atomic.Bool // Serve's context ended: drain (set by another goroutine)
	wakeMu   sync.Mutex  // guards wakefd against close while another goroutine wakes
}

// conn is one connection of a loop: HTTP/1, or HTTP/2 once h2 is set.
type conn struct {
	fd       int
	h2       *http2.Conn
	in       []byte // input kept between reads: the start of an unfinished request
	out      []byte // output the socket has not taken yet
	need     int    // bytes the unfinished request needs in all, when known
	closing  bool   // close once out is written
	linger   bool   // write side shut; discarding input until EOF
	sent100  bool   // 100 Continue sent for the request in progress
	parked   bool   // waiting for a concurrency slot
	h2wait   bool   // in loop.h2wait
	served   uint64
	deadline time.Time // idle or read deadline
	first    time.Time // when the first byte of the request kept in in was read
	pending  batch     // the requests answered in out, timed once it is written
}

// batch is what the latency of the requests answered by one write runs
// from: the loop's clock, read once per iteration after epoll_wait, when
// their first bytes were read.
type batch struct {
	first time.Time // the first request's, which may have begun in an earlier read
	rest  time.Time // the others', read by this iteration
	n     int       // requests answered
}

func newLoop(s *shard) (*loop, error) {
	l := &loop{s: s, cfg: &s.g.cfg, epfd: -1, wakefd: -1, lfd: s.ln.FD}
	if err := l.mapBuffers(); err != nil {
		return nil, err
	}
	l.init()
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		l.st.Close() // its QSBR slot must not hold reclamation back
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
	if l.rbuf == nil { // not mapped by mapBuffers
		l.events = make([]unix.EpollEvent, maxEvents)
		l.rbuf = make([]byte, readBufSize)
	}
	l.iov = make([]unix.Iovec, 0, iovecsHint)
	l.key = make([]byte, 0, l.cfg.Limits.MaxKeySize)
	l.exec = &l.s.g.exec
	l.st = l.cfg.Store.NewShard(l.s.plan.Node)
	l.st.OnWait(l.release)
	l.h2 = l.newH2()
	l.m = &l.s.m.Loop
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
	l.st.Close()
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	if l.wakefd >= 0 {
		unix.Close(l.wakefd)
		l.wakefd = -1
	}
	l.unmapBuffers()
}

// run is the loop: wait, accept, read, answer, write.
//
// Stored values are sent zero-copy: a value slice the loop got from the
// store stays valid until the loop's next quiescent-state announcement,
// made here at the top of each iteration, once the previous iteration's
// writes have returned (their unsent tails were copied); wait announces
// the loop offline while it blocks.
func (l *loop) run() error {
	for {
		n, err := l.wait(l.timeout())
		if err != nil {
			return err
		}
		l.tick(l.cfg.Now())
		l.st.Quiescent(l.now)
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
		l.retryH2()
		l.maintain()
		if l.draining && (l.open == 0 || !l.now.Before(l.deadline)) {
			return nil
		}
		l.yield()
	}
}

// release is the store's OnWait callback, for a write at the memory
// limit that must wait for the other loops to pass a quiescent state: the
// loop copies the values its batch still references (in l.out, and in
// the HTTP/2 answers of the connection being fed) and so holds none while
// it waits offline.
func (l *loop) release() {
	l.out.Own()
	l.h2.Own()
}

// yield passes through the Go scheduler every yieldEvery of a busy loop.
// The loop otherwise never does (its syscalls are raw), and the runtime's
// monitor, seeing a goroutine run for 10 ms, would preempt it with a
// signal, take its P away in its next epoll_wait and then poll every 20 µs
// for a while: under load that polling cost the process about a tenth of
// its CPU, on the loop's own core.
func (l *loop) yield() {
	if l.now.Sub(l.yielded) < yieldEvery {
		return
	}
	l.yielded = l.now
	runtime.Gosched()
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
	l.st.Offline() // holds no value while blocked: reclamation goes on
	defer l.st.Online()
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
	case len(l.parked) > 0 || len(l.h2wait) > 0:
		return int(parkedRetry / time.Millisecond)
	case l.open == 0 && l.acceptAfter.IsZero() && !l.draining && !l.st.Expiring():
		return -1 // nothing to sweep: the store's entries that expire included
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
	if l.h2 != nil {
		l.h2.SetTime(now, l.date)
	}
}
