package shard

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/store"
)

// requestUpgrade is an accepted Upgrade: h2c request, rebuilt for net/http.
type requestUpgrade struct {
	req      *http.Request
	settings []byte
}

// process answers the complete requests at the start of data, appending the
// answers to l.out until it holds a batch's worth (see batchFull). It
// returns how many bytes it used, and whether the connection was handed
// over to HTTP/2 (then c is no longer the loop's).
func (l *loop) process(c *conn, data []byte) (used int, handedOff bool) {
	pos := 0
	for pos < len(data) && !c.closing && !l.batchFull() {
		if c.served == 0 && pos == 0 && data[0] == 'P' {
			if n := prefaceMatch(data); n < len(h2Preface) {
				if n == len(data) {
					return 0, false // maybe a preface: wait for the rest
				}
			} else {
				l.handOff(c, data, l.out.bytesFrom(0), nil)
				return len(data), true
			}
		}
		ok, p := parseHead(data[pos:], l.cfg.MaxHeaderSize, &l.req)
		if p != nil {
			l.refuse(c, p, "")
			return len(data), false
		}
		if !ok {
			return pos, false
		}
		r := &l.req
		start := pos + r.headLen
		size, span, done, p := l.body(r, data[start:])
		if p != nil {
			l.refuse(c, p, "")
			return len(data), false
		}
		if !done {
			c.need = r.headLen + max(int(r.contentLength), 0)
			if r.expect100 && !c.sent100 {
				c.sent100 = true
				l.out.b = append(l.out.b, "HTTP/1.1 100 Continue\r\n\r\n"...)
			}
			return pos, false
		}
		if !l.s.sem.tryAcquire() {
			l.park(c)
			return pos, false
		}
		body := data[start : start+span]
		if r.upgradeH2C && !r.chunked {
			if up := l.upgrade(data[pos:start], body); up != nil {
				l.s.sem.release() // stream 1 takes its own slot
				l.handOff(c, data[start+span:], l.out.bytesFrom(0), up)
				return len(data), true
			}
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
	return l.out.size+len(l.out.b)-l.out.marked >= maxBatchOut
}

// prefaceMatch returns how many leading bytes of data match the HTTP/2
// connection preface.
func prefaceMatch(data []byte) int {
	n := min(len(data), len(h2Preface))
	for i := 0; i < n; i++ {
		if data[i] != h2Preface[i] {
			return i
		}
	}
	return n
}

// body finds the request's body in data: its decoded size and the bytes it
// spans. done is false while it is incomplete.
func (l *loop) body(r *request, data []byte) (size, span int, done bool, p *api.Problem) {
	max := l.cfg.Limits.MaxValueSize
	if r.chunked {
		size, span, done, p = scanChunked(data, max)
		if p == nil && !done && len(data) > l.maxBody() {
			// Small chunks with extensions may spend ~20 bytes of framing
			// per byte of data within scanChunked's overhead rule: cap
			// what an unfinished body holds in the connection's buffer.
			p = api.ErrValueTooLarge
		}
		return size, span, done, p
	}
	if r.contentLength <= 0 {
		return 0, 0, true, nil
	}
	if r.contentLength > int64(max) {
		return 0, 0, false, api.ErrValueTooLarge
	}
	n := int(r.contentLength)
	return n, n, len(data) >= n, nil
}

// upgrade rebuilds an Upgrade: h2c request, or returns nil to serve it over
// HTTP/1.1 instead, as RFC 9110 allows.
func (l *loop) upgrade(head, body []byte) *requestUpgrade {
	settings, err := h2Settings(l.req.h2Settings)
	if err != nil {
		return nil
	}
	req, err := upgradeRequest(head, bytes.Clone(body), "")
	if err != nil {
		return nil
	}
	return &requestUpgrade{req: req, settings: settings}
}

// refuse answers a request the connection cannot carry on from, and closes
// the connection once the answer is written.
func (l *loop) refuse(c *conn, p *api.Problem, allow string) {
	l.out.problem(p, allow, l.date, false, false, false)
	c.closing = true
}

// answer serves one complete request.
func (l *loop) answer(c *conn, r *request, body []byte, size int) {
	l.s.count.requests.Add(1)
	keep := r.keepAlive && !l.draining
	if !keep {
		c.closing = true
	}
	http10 := r.minor == 0
	rt := api.Match(r.method, api.SplitTarget(api.OriginPath(r.target)))
	var key []byte
	var p *api.Problem
	switch {
	case rt.Op == api.OpNone && rt.Status == 405:
		l.out.problem(api.ErrMethod, rt.Allow, l.date, keep, http10, r.method == "HEAD")
		return
	case rt.Op == api.OpNone:
		l.out.problem(api.ErrNoRoute, "", l.date, keep, http10, r.method == "HEAD")
		return
	case rt.Op.HasKey():
		if key, p = api.AppendKey(l.key[:0], rt.Key, l.cfg.Limits.MaxKeySize); p != nil {
			l.out.problem(p, "", l.date, keep, http10, rt.Head)
			return
		}
		l.key = key[:0]
	}
	switch rt.Op {
	case api.OpHello:
		l.out.head(200, l.date, textPlain, len(api.Hello), keep, http10)
		if !rt.Head {
			l.out.b = append(l.out.b, api.Hello...)
		}
	case api.OpGet, api.OpHead:
		v, ok := l.cfg.Store.Get(key)
		if !ok {
			l.out.problem(api.ErrNoKey, "", l.date, keep, http10, rt.Head)
			return
		}
		l.out.head(200, l.date, octetStream, len(v), keep, http10)
		if !rt.Head {
			l.out.value(v)
		}
	case api.OpSet:
		l.set(r, key, body, size, keep, http10)
	case api.OpDelete:
		if !l.cfg.Store.Delete(key) {
			l.out.problem(api.ErrNoKey, "", l.date, keep, http10, false)
			return
		}
		l.out.head(204, l.date, "", 0, keep, http10)
	case api.OpStats:
		var b bytes.Buffer
		l.s.g.WriteStats(&b)
		l.out.head(200, l.date, appJSON, b.Len(), keep, http10)
		if !rt.Head {
			l.out.b = append(l.out.b, b.Bytes()...)
		}
	}
}

// set stores a request body: a new slice the store owns from now on.
func (l *loop) set(r *request, key, body []byte, size int, keep, http10 bool) {
	if r.contentLength < 0 && !r.chunked {
		l.out.problem(api.ErrNoLength, "", l.date, keep, http10, false)
		return
	}
	v := make([]byte, size)
	if r.chunked {
		decodeChunked(body, v)
	} else {
		copy(v, body)
	}
	if err := l.cfg.Store.Set(key, v); err != nil {
		p := api.ErrStoreFull
		if !errors.Is(err, store.ErrFull) {
			p = &api.Problem{Status: 500, Msg: err.Error()}
		}
		l.out.problem(p, "", l.date, keep, http10, false)
		return
	}
	l.out.head(200, l.date, textPlain, len(api.Stored), keep, http10)
	l.out.b = append(l.out.b, api.Stored...)
}
