package loadgen

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

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
// on cancellation (see poller): for a client that shares its CPUs with
// the server.
type h1Loop struct {
	cfg   Config
	w     *workload.Workload
	rec   *recorder // one goroutine, one recorder for every connection
	p     poller
	conns []*h1Conn
	dirty []*h1Conn     // connections with requests to write
	busy  time.Duration // time spent on events and sends, not polling
}

func newH1Loop(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) (*h1Loop, error) {
	l := &h1Loop{cfg: cfg, w: w, rec: newRecorder(w)}
	if err := l.open(ctx, seed); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *h1Loop) open(ctx context.Context, seed uint64) error {
	if err := l.p.open(); err != nil {
		return err
	}
	for i := range l.cfg.Conns {
		c, err := dialH1Conn(ctx, l.cfg, l.w, l.rec, seed+uint64(i))
		if err != nil {
			return err
		}
		c.id = int32(i)
		l.conns = append(l.conns, c)
		if err := l.p.add(c.fd, int32(i), unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
			return err
		}
	}
	return nil
}

func (l *h1Loop) close() {
	for _, c := range l.conns {
		unix.Close(c.fd)
	}
	l.p.close()
}

func (l *h1Loop) recorders() []*recorder {
	return []*recorder{l.rec}
}

// wait waits for something to happen, until at the latest (in Block
// mode; polling returns at once), and handles it: answers are read and
// recorded, pending output is written. It reports whether ctx was
// cancelled.
func (l *h1Loop) wait(ctx context.Context, until time.Time) bool {
	if !l.cfg.Block && ctx.Err() != nil {
		return true
	}
	events, cancelled := l.p.wait(l.cfg.Block, until)
	if len(events) == 0 {
		return cancelled
	}
	now := time.Now()
	for _, ev := range events {
		c := l.conns[ev.Fd]
		if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
			l.receive(c, now)
		}
		if ev.Events&unix.EPOLLOUT != 0 && c.err == nil {
			l.flush(c)
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

// runOpen paces the plan over the connections until every request is
// answered or given up at deadline.
func (l *h1Loop) runOpen(ctx context.Context, plan schedule.Plan, deadline time.Time) {
	stop := l.p.watchCancel(ctx)
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
	stop := l.p.watchCancel(ctx)
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
