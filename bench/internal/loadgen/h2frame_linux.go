package loadgen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/sys/unix"
)

// frameHeaderLen is the size of an HTTP/2 frame header.
const frameHeaderLen = 9

// receive reads what c's socket holds and handles every whole frame.
func (c *h2Conn) receive(now time.Time) {
	c.now = now
	for c.err == nil {
		n, err := unix.Read(c.fd, c.rbuf[c.rlen:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return
		case err != nil:
			c.broken(os.NewSyscallError("read", err))
			return
		case n == 0:
			c.broken(io.ErrUnexpectedEOF)
			return
		}
		c.rlen += n
		full := c.rlen == len(c.rbuf)
		c.parse(now)
		c.rlen = copy(c.rbuf, c.rbuf[c.roff:c.rlen]) // a frame's start, if any
		c.roff = 0
		if !full {
			return // the socket had no more
		}
	}
}

// parse hands the Framer the whole frames at the start of c's buffer,
// one at a time: it never reads past a frame's end, so it never blocks.
func (c *h2Conn) parse(now time.Time) {
	for c.err == nil && c.rlen-c.roff >= frameHeaderLen {
		b := c.rbuf[c.roff:]
		length := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if length <= h2MaxFrame && c.rlen-c.roff < frameHeaderLen+length {
			return
		}
		f, err := c.fr.ReadFrame() // a frame too large fails here
		if err != nil {
			c.broken(fmt.Errorf("read frame: %w", err))
			return
		}
		c.handle(f, now)
	}
}

func (c *h2Conn) handle(f http2.Frame, now time.Time) {
	switch f := f.(type) {
	case *http2.DataFrame:
		c.onData(f, now)
	case *http2.HeadersFrame:
		c.hdr = c.streams[f.StreamID]
		c.hdrEnd, c.hdrStatus = f.StreamEnded(), 0
		if c.hdr == nil && f.StreamID >= c.nextID {
			c.broken(fmt.Errorf("HEADERS on stream %d: %w", f.StreamID, errNoStream))
			return
		}
		c.onHeaderBlock(f.HeaderBlockFragment(), f.HeadersEnded(), now)
	case *http2.ContinuationFrame:
		c.onHeaderBlock(f.HeaderBlockFragment(), f.HeadersEnded(), now)
	case *http2.SettingsFrame:
		c.onSettings(f)
	case *http2.PingFrame:
		if !f.IsAck() {
			_ = c.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		if s := c.streams[f.StreamID]; s != nil {
			c.lose(s, http2.StreamError{StreamID: f.StreamID, Code: f.ErrCode})
		}
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		c.broken(errors.New("PUSH_PROMISE although push is disabled"))
	}
	// PRIORITY and unknown frame types are ignored.
}

// emit takes one decoded header field: of an answer, only :status counts.
func (c *h2Conn) emit(f hpack.HeaderField) {
	if f.Name != ":status" || len(f.Value) != 3 {
		return
	}
	v := 0
	for _, d := range []byte(f.Value) {
		if d < '0' || d > '9' {
			return
		}
		v = 10*v + int(d-'0')
	}
	c.hdrStatus = v
}

// onHeaderBlock decodes a fragment of a header block (every block is
// decoded, whatever its stream, to keep the decoder's state) and at its
// end applies it to its stream.
func (c *h2Conn) onHeaderBlock(frag []byte, ended bool, now time.Time) {
	if _, err := c.dec.Write(frag); err != nil {
		c.broken(fmt.Errorf("decode headers: %w", err))
		return
	}
	if !ended {
		return
	}
	if err := c.dec.Close(); err != nil {
		c.broken(fmt.Errorf("decode headers: %w", err))
		return
	}
	s := c.hdr
	c.hdr = nil
	if s == nil {
		return // a stream given up
	}
	if s.status == 0 { // the answer's head, not trailers
		switch {
		case c.hdrStatus == 0:
			c.lose(s, fmt.Errorf("stream %d: answer without :status", s.id))
			return
		case c.hdrStatus < 200 && !c.hdrEnd:
			return // interim: the real head follows
		}
		s.status = c.hdrStatus
	}
	if c.hdrEnd {
		c.complete(s, s.body, now)
	}
}

// onData takes a DATA frame and gives the window back once half of it is
// used.
func (c *h2Conn) onData(f *http2.DataFrame, now time.Time) {
	n := int64(f.Length) // padding counts too
	c.recvUnacked += n
	if c.recvUnacked >= h2ConnWindow/2 {
		_ = c.fr.WriteWindowUpdate(0, uint32(c.recvUnacked))
		c.recvUnacked = 0
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return // a stream given up
	}
	if s.status == 0 {
		c.broken(fmt.Errorf("stream %d: DATA before HEADERS", s.id))
		return
	}
	if f.StreamEnded() {
		body := f.Data() // the usual answer: one frame, no copy
		if len(s.body) > 0 {
			s.body = append(s.body, body...)
			body = s.body
		}
		c.complete(s, body, now)
		return
	}
	s.body = append(s.body, f.Data()...)
	if s.recvUnacked += n; s.recvUnacked >= h2StreamWindow/2 {
		_ = c.fr.WriteWindowUpdate(s.id, uint32(s.recvUnacked))
		s.recvUnacked = 0
	}
}

func (c *h2Conn) onSettings(f *http2.SettingsFrame) {
	if f.IsAck() {
		return
	}
	_ = f.ForeachSetting(func(st http2.Setting) error {
		switch st.ID {
		case http2.SettingMaxConcurrentStreams:
			c.limit = min(c.maxStreams, int(st.Val))
		case http2.SettingInitialWindowSize:
			delta := int64(st.Val) - c.peerWin
			c.peerWin = int64(st.Val)
			for _, s := range c.streams {
				s.sendWin += delta
			}
		case http2.SettingMaxFrameSize:
			c.maxFrame = int(st.Val)
		case http2.SettingHeaderTableSize:
			// The client's blocks use no dynamic table; one that shrinks
			// still has to be acknowledged by a size update.
			c.sizeUpdate = c.sizeUpdate || st.Val < 4096
		}
		return nil
	})
	_ = c.fr.WriteSettingsAck()
	c.settings = true
	c.unblock()
	c.refill()
}

func (c *h2Conn) onWindowUpdate(f *http2.WindowUpdateFrame) {
	if f.StreamID == 0 {
		c.sendWin += int64(f.Increment)
	} else if s := c.streams[f.StreamID]; s != nil {
		s.sendWin += int64(f.Increment)
	} else {
		return
	}
	c.unblock()
}

// onGoAway loses the streams the server will not process; those it
// will are still answered, and then the connection ends.
func (c *h2Conn) onGoAway(f *http2.GoAwayFrame) {
	c.goAway = true
	c.goAwayErr = fmt.Errorf("%w (%v, last stream %d)", errGoAway, f.ErrCode, f.LastStreamID)
	for id, s := range c.streams {
		if id > f.LastStreamID {
			c.lose(s, c.goAwayErr)
		}
	}
	c.refill()
}

// complete records s's answer and frees it for the next request.
func (c *h2Conn) complete(s *h2Stream, body []byte, now time.Time) {
	c.rec.answer(s.op, s.status, body, now.Sub(s.at), now)
	c.release(s)
	c.refill()
}

// lose records s as failed for err and frees it.
func (c *h2Conn) lose(s *h2Stream, err error) {
	c.rec.lost(s.op, err)
	c.release(s)
	c.refill()
}

// refill opens streams for the requests that wait for one (open loop)
// or the next requests of the source (closed loop).
func (c *h2Conn) refill() {
	if c.goAway && len(c.streams) == 0 {
		c.broken(c.goAwayErr)
		return
	}
	for c.dueHead < len(c.due) && c.canSend() {
		at := c.due[c.dueHead]
		c.dueHead++
		c.rec.lateBy(c.now.Sub(at))
		c.start(c.gen.Next(), at)
	}
	if c.dueHead == len(c.due) {
		c.due, c.dueHead = c.due[:0], 0
	}
	for c.next != nil && c.canSend() && c.now.Before(c.end) {
		op, ok := c.next()
		if !ok {
			c.next = nil
			return
		}
		c.unstamped = append(c.unstamped, c.start(op, time.Time{})) // stamped at flush
	}
}
