package loadgen

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/corekv/corekv/bench/internal/h1"
	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// bufSize is the read buffer of an HTTP/1.1 connection.
const bufSize = 64 << 10

// errServerClosed is the error for requests left when the server said
// Connection: close.
var errServerClosed = errors.New("server closed the connection")

// h1Lane is one HTTP/1.1 connection. In open loop the pacer writes
// (send) while a reader goroutine reads the answers in order; each has its
// own recorder.
type h1Lane struct {
	cfg  Config
	w    *workload.Workload
	nc   net.Conn
	gen  *workload.Generator
	rd   *h1.Reader
	rrec *recorder // the reader's: answers
	wrec *recorder // the writer's: sends and their lateness
	buf  []byte

	// open loop
	queue    chan pending  // sent, awaiting answers, in order
	done     chan struct{} // closed when the reader is through
	writeErr error
}

func dialH1(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) (*h1Lane, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	return &h1Lane{
		cfg: cfg, w: w, nc: nc, gen: w.Generator(seed),
		rd:   h1.NewReader(nc, bufSize),
		rrec: newRecorder(w), wrec: newRecorder(w),
		buf: make([]byte, 0, bufSize),
	}, nil
}

func (l *h1Lane) recorders() []*recorder { return []*recorder{l.rrec, l.wrec} }

func (l *h1Lane) close() { l.nc.Close() }

// appendOp appends op's request to b.
func (l *h1Lane) appendOp(b []byte, op workload.Op) []byte {
	key := workload.KeyName(op.Key)
	if op.Kind == workload.Get {
		return h1.AppendGet(b, l.cfg.Addr, key)
	}
	b = h1.AppendStoreHead(b, l.cfg.Addr, key, l.w.Config().ValueSize)
	return l.w.AppendValue(b, op.Key, op.Version)
}

type pending struct {
	op workload.Op
	at time.Time
}

func (l *h1Lane) start(ctx context.Context, deadline time.Time) {
	_ = l.nc.SetDeadline(deadline)
	l.queue = make(chan pending, l.cfg.MaxInFlight)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		var broken error
		for p := range l.queue {
			if broken == nil {
				broken = l.answer(p.op, p.at)
			}
			if broken != nil {
				l.rrec.lost(p.op, broken)
			}
		}
	}()
}

// send writes the batch's requests in one write and queues them for the
// reader. After a failed write it writes no more: the reader finds the
// connection broken, or the answers missing at the deadline.
func (l *h1Lane) send(batch []schedule.Due) {
	l.buf = l.buf[:0]
	for _, d := range batch {
		op := l.gen.Next()
		l.buf = l.appendOp(l.buf, op)
		l.queue <- pending{op: op, at: d.Intended}
		l.wrec.lateBy(d.Late)
	}
	if l.writeErr != nil {
		return
	}
	l.wrec.sent += int64(len(batch))
	_, l.writeErr = l.nc.Write(l.buf)
}

func (l *h1Lane) finish() {
	close(l.queue)
	<-l.done
}

// answer reads the answer to op, sent (or due) at at, and records it. It
// returns an error, and closes the connection, when no more answers can
// come.
func (l *h1Lane) answer(op workload.Op, at time.Time) error {
	resp, err := l.rd.Read()
	if err != nil {
		l.nc.Close()
		return err
	}
	now := l.cfg.Clock.Now()
	l.rrec.answer(op, resp.Status, resp.Body, now.Sub(at), now)
	if resp.Close {
		l.nc.Close()
		return errServerClosed
	}
	return nil
}

func (l *h1Lane) closed(ctx context.Context, end time.Time, next func() (workload.Op, bool)) {
	if next == nil {
		next = func() (workload.Op, bool) { return l.gen.Next(), true }
	}
	_ = l.nc.SetDeadline(end.Add(l.cfg.Timeout))
	ops := make([]workload.Op, 0, l.cfg.Pipeline)
	for ctx.Err() == nil && l.cfg.Clock.Now().Before(end) {
		ops, l.buf = ops[:0], l.buf[:0]
		for len(ops) < cap(ops) {
			op, ok := next()
			if !ok {
				break
			}
			ops = append(ops, op)
			l.buf = l.appendOp(l.buf, op)
		}
		if len(ops) == 0 {
			return
		}
		sent := l.cfg.Clock.Now()
		l.wrec.sent += int64(len(ops))
		_, err := l.nc.Write(l.buf)
		for _, op := range ops {
			if err == nil {
				err = l.answer(op, sent)
			}
			if err != nil {
				l.rrec.lost(op, err)
			}
		}
		if err != nil {
			return
		}
	}
}
