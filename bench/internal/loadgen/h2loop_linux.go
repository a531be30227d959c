package loadgen

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// h2Loop drives every h2c connection of a step from one goroutine, as
// h1Loop does HTTP/1.1: non-blocking sockets in an epoll set, frames
// parsed with http2.Framer and HPACK out of the read buffer, requests
// from header blocks encoded once (h2Requests), and everything a wake-up
// produces for a connection written in one write. Config.Streams
// requests are in flight per connection; in open loop, requests due
// while every stream is busy wait for one, and the wait counts as send
// lateness. Like h1Loop it busy-polls unless Config.Block is set.
type h2Loop struct {
	cfg   Config
	w     *workload.Workload
	rec   *recorder
	p     poller
	conns []*h2Conn
	dirty []*h2Conn
	busy  time.Duration
}

func newH2Loop(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) (*h2Loop, error) {
	l := &h2Loop{cfg: cfg, w: w, rec: newRecorder(w)}
	if err := l.open(ctx, seed); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *h2Loop) open(ctx context.Context, seed uint64) error {
	if err := l.p.open(); err != nil {
		return err
	}
	reqs := newH2Requests(l.cfg.Addr, l.w.Config().ValueSize)
	for i := range l.cfg.Conns {
		c, err := dialH2Conn(ctx, l.cfg, l.w, reqs, l.rec, seed+uint64(i))
		if err != nil {
			return err
		}
		c.id, c.epfd = int32(i), l.p.epfd
		l.conns = append(l.conns, c)
		if err := l.p.add(c.fd, c.id, unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
			return err
		}
	}
	return nil
}

func (l *h2Loop) close() {
	for _, c := range l.conns {
		unix.Close(c.fd)
	}
	l.p.close()
}

func (l *h2Loop) markDirty(c *h2Conn) {
	if !c.dirty {
		c.dirty = true
		l.dirty = append(l.dirty, c)
	}
}

// flushDirty writes every connection's new output, stamping the
// requests that await a send time (closed loop) with now.
func (l *h2Loop) flushDirty(now time.Time) {
	for _, c := range l.dirty {
		c.stamp(now)
		c.dirty = false
		if c.err == nil {
			c.flush()
		}
	}
	l.dirty = l.dirty[:0]
}

// wait handles what happened since the last call (or, with Block, waits
// for something until at the latest): answers are read and recorded,
// pending output is written. It reports whether ctx was cancelled.
func (l *h2Loop) wait(ctx context.Context, until time.Time) bool {
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
			c.receive(now)
			l.markDirty(c)
		}
		if ev.Events&unix.EPOLLOUT != 0 && c.err == nil {
			c.flush()
		}
	}
	l.flushDirty(time.Now())
	l.busy += time.Since(now)
	return cancelled
}

func (l *h2Loop) inFlight() int {
	n := 0
	for _, c := range l.conns {
		n += c.inFlight()
	}
	return n
}

// giveUp counts every request in flight or waiting as lost for err.
func (l *h2Loop) giveUp(err error) {
	for _, c := range l.conns {
		c.fail(err)
	}
}

// send hands a connection the requests the pacer made due.
func (l *h2Loop) send(lane int, batch []schedule.Due) {
	c := l.conns[lane]
	for _, d := range batch {
		switch {
		case c.err != nil:
			c.rec.lateBy(d.Late)
			c.rec.lost(c.gen.Next(), c.err)
		case c.goAway:
			c.rec.lateBy(d.Late)
			c.rec.lost(c.gen.Next(), c.goAwayErr)
		case c.dueHead == len(c.due) && c.canSend():
			c.rec.lateBy(d.Late)
			c.start(c.gen.Next(), d.Intended)
		default:
			c.due = append(c.due, d.Intended)
		}
	}
	l.markDirty(c)
}

// runOpen paces the plan over the connections until every request is
// answered or given up at deadline.
func (l *h2Loop) runOpen(ctx context.Context, plan schedule.Plan, deadline time.Time) {
	stop := l.p.watchCancel(ctx)
	defer stop()
	pacer := schedule.NewPacer(plan, maxBatch)
	next, more := plan.Start, plan.Total() > 0
	for {
		now := time.Now()
		if more && !next.After(now) {
			next, more = pacer.Fire(now, l.send)
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

// runClosed keeps cfg.Streams requests in flight on every connection
// until end, then waits for the answers until end + Timeout. next, when
// set, returns each connection's operation source instead of its
// generator; the run then also ends when they all run dry.
func (l *h2Loop) runClosed(ctx context.Context, end time.Time, next func(conn int) func() (workload.Op, bool)) {
	stop := l.p.watchCancel(ctx)
	defer stop()
	for i, c := range l.conns {
		c.end = end
		if next != nil {
			c.next = next(i)
		} else {
			c.next = func() (workload.Op, bool) { return c.gen.Next(), true }
		}
		c.now = time.Now()
		c.refill()
		l.markDirty(c)
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

// runH2 runs a step over h2c from one event loop.
func runH2(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l, err := newH2Loop(ctx, cfg, w, seed<<20)
	if err != nil {
		return nil, err
	}
	defer l.close()
	start := startTime(cfg)
	if step.Rate > 0 {
		plan := schedule.Plan{Start: start, Rate: step.Rate, Duration: step.Duration, Lanes: len(l.conns)}
		l.runOpen(ctx, plan, start.Add(step.Duration+cfg.Timeout))
	} else {
		time.Sleep(time.Until(start))
		l.runClosed(ctx, start.Add(step.Duration), nil)
	}
	res := merge(step, start, []*recorder{l.rec})
	if !cfg.Block {
		res.Busy = l.busy
	}
	return res, nil
}

// preloadH2 writes every key once over h2c, closed loop.
func preloadH2(ctx context.Context, cfg Config, w *workload.Workload, end time.Time) ([]*recorder, error) {
	l, err := newH2Loop(ctx, cfg, w, 0)
	if err != nil {
		return nil, err
	}
	defer l.close()
	n := len(l.conns)
	l.runClosed(ctx, end, func(i int) func() (workload.Op, bool) { return preloadKeys(w, i, n, w.Config().Keys) })
	return []*recorder{l.rec}, nil
}
