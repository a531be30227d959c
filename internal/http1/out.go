package http1

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/corekv/corekv/api"
)

// Out gathers the responses to one batch of requests for one write.
// Response heads and static bodies are appended to a buffer; values are
// referenced, not copied, and go out with writev straight from the store's
// memory. A referenced value follows the value-lifetime rule: it must stay
// valid until the batch is written or copied by BytesFrom.
type Out struct {
	b      []byte
	segs   []segment
	size   int // bytes in all segments
	marked int // bytes of b already in segments
}

// segment is b[off:end], or ext when ext is not nil.
type segment struct {
	off, end int
	ext      []byte
}

// Framing says how an answer fits its connection.
type Framing struct {
	// KeepAlive is false when the connection closes after the answer,
	// which then says "Connection: close".
	KeepAlive bool
	// HTTP10 is true for an HTTP/1.0 request: a connection kept alive is
	// announced with "Connection: keep-alive".
	HTTP10 bool
}

// Reset empties o for the next batch, keeping its memory.
func (o *Out) Reset() {
	o.b = o.b[:0]
	o.segs = o.segs[:0]
	o.size = 0
	o.marked = 0
}

// Len returns the bytes o holds, referenced values included.
func (o *Out) Len() int {
	return o.size + len(o.b) - o.marked
}

// Segments appends the batch's bytes to dst as one slice per contiguous
// piece, in order, for writev, and returns the result.
func (o *Out) Segments(dst [][]byte) [][]byte {
	o.mark()
	for _, s := range o.segs {
		if s.ext != nil {
			dst = append(dst, s.ext)
		} else {
			dst = append(dst, o.b[s.off:s.end])
		}
	}
	return dst
}

// mark closes the segment of b written since the last mark.
func (o *Out) mark() {
	if len(o.b) == o.marked {
		return
	}
	if n := len(o.segs); n > 0 && o.segs[n-1].ext == nil {
		o.segs[n-1].end = len(o.b)
	} else {
		o.segs = append(o.segs, segment{off: o.marked, end: len(o.b)})
	}
	o.size += len(o.b) - o.marked
	o.marked = len(o.b)
}

// Buffer returns the buffer that output bytes are appended to, for an
// encoder that writes into the same batch (HTTP/2).
func (o *Out) Buffer() *[]byte { return &o.b }

// Value appends a reference to v, after the bytes appended so far.
func (o *Out) Value(v []byte) { o.value(v) }

// value appends a reference to v.
func (o *Out) value(v []byte) {
	o.mark()
	if len(v) > 0 {
		o.segs = append(o.segs, segment{ext: v})
		o.size += len(v)
	}
}

// BytesFrom copies the batch from byte skip on into a new slice: what stays
// queued when the socket takes only part of it.
func (o *Out) BytesFrom(skip int) []byte {
	o.mark()
	rest := make([]byte, 0, o.size-skip)
	for _, s := range o.segs {
		p := s.ext
		if p == nil {
			p = o.b[s.off:s.end]
		}
		if skip >= len(p) {
			skip -= len(p)
			continue
		}
		rest = append(rest, p[skip:]...)
		skip = 0
	}
	return rest
}

// Own copies the values o references, so that o holds nothing the
// value-lifetime rule could take away before the batch is written: for a
// loop that must give up its hold on the store in the middle of a batch
// (see store.Shard.OnWait). It is rare, and allocates.
func (o *Out) Own() {
	for i := range o.segs {
		if s := &o.segs[i]; s.ext != nil {
			s.ext = bytes.Clone(s.ext)
		}
	}
}

// Continue appends an interim 100 Continue response.
func (o *Out) Continue() {
	o.b = append(o.b, "HTTP/1.1 100 Continue\r\n\r\n"...)
}

// Result appends the response that res describes. date is the Date header's
// value. The value res carries is referenced, not copied.
func (o *Out) Result(res *api.Result, date []byte, f Framing) {
	o.head(res, date, f)
	if res.Head {
		return
	}
	o.b = append(o.b, res.Text...)
	if res.Problem != nil {
		o.b = append(o.b, res.Problem.Msg...)
		o.b = append(o.b, '\n')
	}
	o.value(res.Value)
}

// Refuse appends the answer to a request the connection cannot carry on
// from: p, with "Connection: close".
func (o *Out) Refuse(p *api.Problem, date []byte) {
	res := api.Refusal(p)
	o.Result(&res, date, Framing{})
}

// head appends a response's status line and header fields.
func (o *Out) head(res *api.Result, date []byte, f Framing) {
	b := append(o.b, "HTTP/1.1 "...)
	if st := res.Status; st == http.StatusOK {
		b = append(b, "200 OK"...) // most answers: skip the arithmetic
	} else {
		// A status has three digits (RFC 9110, section 15).
		b = append(b, byte('0'+st/100), byte('0'+st/10%10), byte('0'+st%10), ' ')
		b = append(b, http.StatusText(st)...)
	}
	b = append(b, "\r\nDate: "...)
	b = append(b, date...)
	if res.ContentType != "" {
		b = append(b, "\r\nContent-Type: "...)
		b = append(b, res.ContentType...)
	}
	if res.Status != http.StatusNoContent {
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(res.Len()), 10)
	}
	if res.Allow != "" {
		b = append(b, "\r\nAllow: "...)
		b = append(b, res.Allow...)
	}
	if res.MaxAge > 0 {
		b = append(b, "\r\nCache-Control: max-age="...)
		b = strconv.AppendInt(b, res.MaxAge, 10)
	}
	switch {
	case !f.KeepAlive:
		b = append(b, "\r\nConnection: close"...)
	case f.HTTP10:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	o.b = append(b, "\r\n\r\n"...)
}
