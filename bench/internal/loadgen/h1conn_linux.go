package loadgen

import (
	"context"
	"time"

	"github.com/corekv/corekv/bench/internal/h1"
	"github.com/corekv/corekv/bench/internal/workload"
)

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
	limit := c.parser.BodyLimit()
	if len(c.rbuf) >= limit+readBuf {
		return false
	}
	b := make([]byte, 2*len(c.rbuf))
	copy(b, c.rbuf[:c.rlen])
	c.rbuf = b
	return true
}
