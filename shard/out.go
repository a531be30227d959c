package shard

import (
	"strconv"

	"github.com/corekv/corekv/api"
)

// outBuf gathers the responses of one batch of requests for one write.
// Response heads are appended to b; stored values are referenced, not
// copied, since the store never changes a value once stored, and go out
// with writev straight from the store's memory.
type outBuf struct {
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

func (o *outBuf) reset() {
	o.b = o.b[:0]
	o.segs = o.segs[:0]
	o.size = 0
	o.marked = 0
}

// mark closes the segment of b written since the last mark.
func (o *outBuf) mark() {
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

// value appends a reference to v.
func (o *outBuf) value(v []byte) {
	o.mark()
	if len(v) > 0 {
		o.segs = append(o.segs, segment{ext: v})
		o.size += len(v)
	}
}

// bytesFrom copies the unsent tail of the batch, from byte skip on, into a
// new slice: what stays queued when the socket takes only part of it.
func (o *outBuf) bytesFrom(skip int) []byte {
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

// head appends a response status line and headers for a body of n bytes.
func (o *outBuf) head(status int, date []byte, ctype string, n int, keepAlive, http10 bool) {
	b := append(o.b, "HTTP/1.1 "...)
	b = append(b, statusLine(status)...)
	b = append(b, "\r\nDate: "...)
	b = append(b, date...)
	if ctype != "" {
		b = append(b, "\r\nContent-Type: "...)
		b = append(b, ctype...)
	}
	if status != 204 && status != 100 {
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	switch {
	case !keepAlive:
		b = append(b, "\r\nConnection: close"...)
	case http10:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	o.b = append(b, "\r\n\r\n"...)
}

// problem appends a complete error response.
func (o *outBuf) problem(p *api.Problem, allow string, date []byte, keepAlive, http10, head bool) {
	n := len(p.Msg) + 1
	o.head(p.Status, date, textPlain, n, keepAlive, http10)
	if allow != "" {
		o.b = o.b[:len(o.b)-2]
		o.b = append(o.b, "Allow: "...)
		o.b = append(o.b, allow...)
		o.b = append(o.b, "\r\n\r\n"...)
	}
	if !head {
		o.b = append(o.b, p.Msg...)
		o.b = append(o.b, '\n')
	}
}

const (
	textPlain   = "text/plain; charset=utf-8"
	octetStream = "application/octet-stream"
	appJSON     = "application/json"
)

// statusLine returns "code reason" for the statuses corekv sends.
func statusLine(code int) string {
	switch code {
	case 100:
		return "100 Continue"
	case 101:
		return "101 Switching Protocols"
	case 200:
		return "200 OK"
	case 204:
		return "204 No Content"
	case 400:
		return "400 Bad Request"
	case 404:
		return "404 Not Found"
	case 405:
		return "405 Method Not Allowed"
	case 408:
		return "408 Request Timeout"
	case 411:
		return "411 Length Required"
	case 413:
		return "413 Content Too Large"
	case 414:
		return "414 URI Too Long"
	case 417:
		return "417 Expectation Failed"
	case 431:
		return "431 Request Header Fields Too Large"
	case 500:
		return "500 Internal Server Error"
	case 501:
		return "501 Not Implemented"
	case 503:
		return "503 Service Unavailable"
	case 505:
		return "505 HTTP Version Not Supported"
	case 507:
		return "507 Insufficient Storage"
	}
	return strconv.Itoa(code) + " Unknown"
}
