package http2

import (
	"bytes"
	"net/http"
	"time"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

// Stream states, from the server's side (RFC 9113, section 5.1). A stream
// leaves the table when it closes.
const (
	stateOpen       = iota // receiving the request
	stateHalfClosed        // request complete (half-closed remote): answering
)

// stream is one open stream.
type stream struct {
	id            uint32
	state         uint8
	deferred      bool // complete, waiting for a slot or for blocked answers to drain
	slot          bool // holds a concurrency slot
	early         bool // answered before its request was complete
	owned         bool // pending is our copy
	copied        bool // pending is in text: copy it into the output
	sendWindow    int64
	recvWindow    int64
	recvUnacked   int64
	contentLength int64 // -1 when not sent
	started       time.Time
	method, path  string
	authority     string
	body          []byte
	pending       []byte // answer bytes flow control holds back
	text          []byte // a text answer's body
}

// stream returns the open stream id, or nil.
func (c *Conn) stream(id uint32) *stream {
	for _, s := range c.streams {
		if s.id == id {
			return s
		}
	}
	return nil
}

// open adds a stream for a new HEADERS frame, or returns nil when it is
// refused: over MaxConcurrentStreams, without a concurrency slot, or after
// GOAWAY.
func (c *Conn) open(id uint32) *stream {
	c.maxClientID = id
	if c.goingAway {
		return nil
	}
	if len(c.streams) >= int(c.cfg.MaxConcurrentStreams) {
		c.srv.stats.refused.Add(1)
		if c.calm() {
			c.rst(id, xhttp2.ErrCodeRefusedStream)
		}
		return nil
	}
	c.srv.stats.streams.Add(1)
	var s *stream
	if n := len(c.free); n > 0 {
		s, c.free = c.free[n-1], c.free[:n-1]
	} else {
		s = new(stream)
	}
	body, text := s.body[:0], s.text[:0]
	*s = stream{
		id:            id,
		sendWindow:    c.peerWindow,
		recvWindow:    65535,
		contentLength: -1,
		started:       c.srv.now,
		body:          body,
		text:          text,
	}
	c.streams = append(c.streams, s)
	c.lastActive = c.srv.now
	if c.cfg.Acquire != nil {
		s.slot = c.cfg.Acquire() // without one, the request is still read; see ready
	}
	return s
}

// close forgets a stream and gives its slot back.
func (c *Conn) close(s *stream) {
	i := 0
	for c.streams[i] != s {
		i++
	}
	copy(c.streams[i:], c.streams[i+1:])
	c.streams[len(c.streams)-1] = nil
	c.streams = c.streams[:len(c.streams)-1]
	c.closed[c.closedNext] = s.id
	c.closedNext = (c.closedNext + 1) % recentIDs
	if s.state == stateOpen {
		c.bodyBuffered -= len(s.body)
	}
	c.blockedBytes -= len(s.pending)
	s.pending = nil
	s.method, s.path, s.authority = "", "", ""
	if s.slot {
		s.slot = false
		c.cfg.Release()
	}
	c.lastActive = c.srv.now
	c.finishIfIdle()
	// Keep a few streams for reuse, with small buffers only: an idle
	// connection holds at most keptStreams × (keptBuffer + text) bytes.
	if len(c.free) < keptStreams {
		if cap(s.body) > keptBuffer {
			s.body = nil
		}
		if cap(s.text) > keptBuffer {
			s.text = nil
		}
		c.free = append(c.free, s)
	}
}

// data handles a DATA frame.
func (c *Conn) data(id uint32, flags xhttp2.Flags, p []byte) {
	if id == 0 {
		c.connError(xhttp2.ErrCodeProtocol, "DATA on stream 0")
		return
	}
	n := int64(len(p))
	if flags.Has(xhttp2.FlagDataPadded) {
		if len(p) == 0 || int(p[0]) >= len(p) {
			c.connError(xhttp2.ErrCodeProtocol, "bad padding")
			return
		}
		p = p[1 : len(p)-int(p[0])]
	}
	if c.recvWindow -= n; c.recvWindow < 0 {
		c.connError(xhttp2.ErrCodeFlowControl, "connection window exceeded")
		return
	}
	c.recvUnacked += n // the connection is credited whatever becomes of the data
	end := flags.Has(xhttp2.FlagDataEndStream)
	if len(p) == 0 && !end && !c.calm() {
		return
	}
	if id > c.maxClientID {
		c.connError(xhttp2.ErrCodeProtocol, "DATA on an idle stream")
		return
	}
	s := c.stream(id)
	switch {
	case s == nil && c.resetByUs(id):
	case s != nil && s.early: // answered early: the rest of the body is dropped
	case s == nil || s.state != stateOpen:
		c.rst(id, xhttp2.ErrCodeStreamClosed)
	default:
		c.body(s, p, n, end)
	}
	c.creditConn()
}

// body adds DATA to a stream's request body.
func (c *Conn) body(s *stream, p []byte, n int64, end bool) {
	if s.recvWindow -= n; s.recvWindow < 0 {
		c.rst(s.id, xhttp2.ErrCodeFlowControl)
		return
	}
	size := int64(len(s.body) + len(p))
	switch {
	case s.contentLength >= 0 && size > s.contentLength:
		c.rst(s.id, xhttp2.ErrCodeProtocol)
		return
	case size > int64(c.cfg.MaxBodySize):
		c.refuse(s, api.ErrValueTooLarge)
		return
	}
	s.body = append(s.body, p...)
	c.bodyBuffered += len(p)
	s.recvUnacked += n
	c.lastActive = c.srv.now
	if end {
		c.complete(s)
		return
	}
	c.creditStream(s)
}

// creditConn returns flow-control credit for the connection once half of
// its window is used.
func (c *Conn) creditConn() {
	if c.done || c.recvUnacked < connWindow/2 {
		return
	}
	c.srv.fr.WriteWindowUpdate(0, uint32(c.recvUnacked))
	c.recvWindow += c.recvUnacked
	c.recvUnacked = 0
}

// creditStream returns flow-control credit for a stream's consumed body,
// batched, within the connection's body budget; beyond the budget only the
// oldest unfinished body gets credit, so that one always can finish.
func (c *Conn) creditStream(s *stream) {
	if s.state != stateOpen || s.recvUnacked < 16<<10 {
		return
	}
	if c.bodyBuffered > c.cfg.MaxBodyBuffer && c.oldestOpen() != s {
		return
	}
	c.srv.fr.WriteWindowUpdate(s.id, uint32(s.recvUnacked))
	s.recvWindow += s.recvUnacked
	s.recvUnacked = 0
}

// oldestOpen returns the oldest stream still receiving its request.
func (c *Conn) oldestOpen() *stream {
	for _, s := range c.streams {
		if s.state == stateOpen {
			return s
		}
	}
	return nil
}

// complete handles the end of a stream's request.
func (c *Conn) complete(s *stream) {
	if s.contentLength >= 0 && int64(len(s.body)) != s.contentLength {
		c.rst(s.id, xhttp2.ErrCodeProtocol)
		return
	}
	s.state = stateHalfClosed
	c.bodyBuffered -= len(s.body)
	c.lastActive = c.srv.now
	if !c.ready(s) {
		s.deferred = true
		return
	}
	c.answer(s)
}

// ready reports whether a complete request may be answered now: the
// connection's blocked answers are within MaxBlocked, and the stream holds
// a concurrency slot (it takes one if it can).
func (c *Conn) ready(s *stream) bool {
	if c.blockedBytes > c.cfg.MaxBlocked {
		return false
	}
	if !s.slot && c.cfg.Acquire != nil {
		s.slot = c.cfg.Acquire()
		return s.slot
	}
	return true
}

// answer serves a complete request and sends what flow control allows of
// the answer.
func (c *Conn) answer(s *stream) {
	s.deferred = false
	c.reqBody.b = s.body
	c.req = api.Request{Method: s.method, Target: s.path, Body: &c.reqBody}
	res := c.cfg.Serve(&c.req)
	c.reqBody.b = nil
	c.respond(s, &res)
}

// respond sends a response's headers and as much of its body as the
// windows allow; the stream closes once all of it is sent. A value is sent
// by reference; a text body is copied into the stream, and from there into
// the output.
func (c *Conn) respond(s *stream, res *api.Result) {
	noBody := res.Head || res.Status == http.StatusNoContent || res.Status == http.StatusNotModified
	c.writeHeaders(s.id, res, noBody || res.Len() == 0)
	switch {
	case noBody:
		s.pending = nil
	case res.Text == "" && res.Problem == nil:
		s.pending, s.copied, s.owned = res.Value, false, false
	default:
		s.text = append(s.text[:0], res.Text...)
		if res.Problem != nil {
			s.text = append(append(s.text, res.Problem.Msg...), '\n')
		}
		s.text = append(s.text, res.Value...)
		s.pending, s.copied, s.owned = s.text, true, true
	}
	c.blockedBytes += len(s.pending)
	if c.send(s) {
		c.finish(s)
	}
}

// send sends what the windows allow of a stream's pending body and
// reports whether all of it went.
func (c *Conn) send(s *stream) bool {
	if !c.prefaceDone && len(s.pending) > 0 {
		// An upgraded connection's stream 1 waits for the client preface:
		// the 101, our SETTINGS and the headers stay small enough for
		// clients that read what follows the 101 into a fixed buffer
		// (curl 7.88 takes 32 KiB).
		return false
	}
	for len(s.pending) > 0 {
		n := min(int64(len(s.pending)), int64(c.peerFrame), s.sendWindow, c.sendWindow)
		if n <= 0 {
			return false
		}
		chunk := s.pending[:n]
		s.pending = s.pending[n:]
		c.blockedBytes -= int(n)
		s.sendWindow -= n
		c.sendWindow -= n
		b := c.out.Buffer()
		*b = appendFrameHeader(*b, int(n), xhttp2.FrameData, endIf(len(s.pending) == 0), s.id)
		if s.copied {
			*b = append(*b, chunk...) // s.text is reused by the stream's successor
		} else {
			c.out.Value(chunk)
		}
		c.lastActive = c.srv.now
	}
	return true
}

func endIf(end bool) xhttp2.Flags {
	if end {
		return xhttp2.FlagDataEndStream
	}
	return 0
}

// pump sends the answers that flow control held back and answers the
// requests that waited for them, within one batch.
func (c *Conn) pump() {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(c.streams) && !c.done && c.out.Len() < batchLimit; {
			s := c.streams[i]
			switch {
			case s.deferred && c.ready(s):
				c.answer(s)
				progress = true
			case len(s.pending) > 0 && s.sendWindow > 0 && c.sendWindow > 0:
				if c.send(s) {
					c.finish(s)
				}
				progress = true
			case s.state == stateOpen && s.recvUnacked > 0:
				c.creditStream(s)
			}
			if i < len(c.streams) && c.streams[i] == s {
				i++
			}
		}
	}
	c.finishIfIdle()
}

// retain copies the answers that flow control still holds back at the end
// of a Feed: the bytes they reference are only valid until the output is
// written.
func (c *Conn) retain() {
	c.out = nil
	c.srv.w.b = nil
	c.srv.feeding = nil
	c.own()
}

// own copies the answers that reference bytes Serve returned.
func (c *Conn) own() {
	for _, s := range c.streams {
		if len(s.pending) > 0 && !s.owned {
			s.pending = bytes.Clone(s.pending)
			s.owned = true
		}
	}
}

// refuse answers a stream early with a problem. A stream whose request is
// not complete is reset with NO_ERROR once the answer is out (RFC 9113,
// section 8.1), and the rest of its body is dropped meanwhile.
func (c *Conn) refuse(s *stream, p *api.Problem) {
	if s.state == stateOpen {
		c.bodyBuffered -= len(s.body)
		s.body = s.body[:0]
		s.state = stateHalfClosed
		s.early = true
	}
	s.deferred = false
	res := api.Refusal(p)
	c.respond(s, &res)
}

// finish closes a stream whose answer is all sent.
func (c *Conn) finish(s *stream) {
	if s.early {
		c.rst(s.id, xhttp2.ErrCodeNo)
		return
	}
	c.close(s)
}
