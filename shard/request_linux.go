package shard

import (
	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
	"github.com/corekv/corekv/metrics"
)

// process answers the complete requests at the start of data, appending the
// answers to l.out until it holds a batch's worth (see batchFull). It
// returns how many bytes it used, and whether the connection switched to
// HTTP/2 (by its preface or by an Upgrade: h2c request): the rest of data
// is then HTTP/2's.
func (l *loop) process(c *conn, data []byte) (used int, switched bool) {
	pos := 0
	for pos < len(data) && !c.closing && !l.batchFull() {
		if c.served == 0 && pos == 0 && data[0] == 'P' {
			if n := prefaceMatch(data); n < len(http1.Preface) {
				if n == len(data) {
					return 0, false // maybe a preface: wait for the rest
				}
			} else {
				l.startH2(c)
				return 0, true
			}
		}
		ok, p := http1.ParseHead(data[pos:], l.cfg.MaxHeaderSize, &l.req)
		if p != nil {
			l.refuse(c, p)
			return len(data), false
		}
		if !ok {
			return pos, false
		}
		r := &l.req
		start := pos + r.HeadLen
		size, span, done, p := http1.FrameBody(r, data[start:], l.cfg.Limits.MaxValueSize)
		if p != nil {
			l.refuse(c, p)
			return len(data), false
		}
		if !done {
			c.need = r.HeadLen + max(int(r.ContentLength), 0)
			if r.Expect100 && !c.sent100 {
				c.sent100 = true
				l.out.Continue()
			}
			return pos, false
		}
		if !l.s.sem.tryAcquire() {
			l.park(c)
			return pos, false
		}
		body := data[start : start+span]
		if r.UpgradeH2C && !r.Chunked && l.upgradeH2(c, r, body) {
			return start + span, true
		}
		l.answer(c, r, body, size)
		l.s.sem.release()
		pos = start + span
		c.sent100 = false
		c.need = 0
		c.served++
	}
	return pos, false
}

// batchFull reports whether l.out holds enough answers for one write: at
// least maxBatchOut bytes, heads and referenced values alike.
func (l *loop) batchFull() bool {
	return l.out.Len() >= maxBatchOut
}

// prefaceMatch returns how many leading bytes of data match the HTTP/2
// connection preface.
func prefaceMatch(data []byte) int {
	n := min(len(data), len(http1.Preface))
	for i := 0; i < n; i++ {
		if data[i] != http1.Preface[i] {
			return i
		}
	}
	return n
}

// refuse answers a request the connection cannot carry on from, and closes
// the connection once the answer is written. A peer that does not speak
// HTTP/1 (http1.ErrNotHTTP) gets no answer: the connection closes once the
// answers to its earlier requests are written.
func (l *loop) refuse(c *conn, p *api.Problem) {
	c.closing = true
	if p == http1.ErrNotHTTP {
		return
	}
	l.out.Refuse(p, l.date)
	l.m.Request(metrics.RouteNone, metrics.MethodOther, p.Status, metrics.HTTP11)
	l.batch.n++
}

// answer serves one complete request whose body spans body.
func (l *loop) answer(c *conn, r *http1.Request, body []byte, size int) {
	f := http1.Framing{KeepAlive: r.KeepAlive && !l.draining, HTTP10: r.Minor == 0}
	l.body = loopBody{r: r, span: body, size: size}
	req := api.Request{Method: r.Method, Target: r.Origin(), Unframed: r.Unframed(), Body: &l.body, Shard: l.st}
	res := l.exec.Do(&req, l.key)
	if res.Close {
		f.KeepAlive = false
	}
	if !f.KeepAlive {
		c.closing = true
	}
	l.out.Result(&res, l.date, f)
	p := metrics.HTTP11
	if f.HTTP10 {
		p = metrics.HTTP10
	}
	countLoop(l.m, r.Method, p, &res)
	l.batch.n++
}

// loopBody is the body of the request the loop answers.
type loopBody struct {
	r    *http1.Request
	span []byte
	size int
}

// Size returns the length of the decoded body.
func (b *loopBody) Size() int { return b.size }

// DecodeTo decodes the body into dst (the store's memory): no copy in
// between.
func (b *loopBody) DecodeTo(dst []byte) { http1.DecodeBody(b.r, b.span, dst) }

// Value decodes the body into a new slice; Do uses DecodeTo instead.
func (b *loopBody) Value(max int) ([]byte, error) {
	if b.size > max {
		return nil, api.ErrValueTooLarge
	}
	v := make([]byte, b.size)
	b.DecodeTo(v)
	return v, nil
}
