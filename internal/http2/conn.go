package http2

import (
	"encoding/binary"
	"slices"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/api"
)

// Preface is the client connection preface (RFC 9113, section 3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Conn is one HTTP/2 connection's state. It is driven by one goroutine,
// through Feed, Shutdown and Expire.
type Conn struct {
	srv *Server
	cfg *Config
	dec *hpack.Decoder
	out Sink // the current Feed's output

	prefaceDone bool // the client's preface was read
	settingsIn  bool // the client's first SETTINGS was read
	started     bool // our SETTINGS were sent
	done        bool // close once the output is written
	goingAway   bool // GOAWAY sent: no new streams
	peerGoAway  bool // the peer sent GOAWAY

	maxClientID  uint32
	streams      []*stream // open streams, by age
	free         []*stream
	sendWindow   int64
	peerWindow   int64 // the peer's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame    int   // the peer's SETTINGS_MAX_FRAME_SIZE
	recvWindow   int64
	recvUnacked  int64
	bodyBuffered int // request body bytes held by open streams
	blockedBytes int // answer bytes not sent yet

	hb     block  // the header block in progress
	contID uint32 // stream of an unfinished header block, else 0

	junk       int // frames without a request this second
	junkSince  time.Time
	lastActive time.Time
	resets     [recentIDs]uint32 // streams we reset lately
	resetNext  int
	closed     [recentIDs]uint32 // streams closed lately
	closedNext int

	req     api.Request
	reqBody streamBody
}

// NewConn returns a connection that expects the client preface first.
func (s *Server) NewConn() *Conn {
	c := &Conn{
		srv:        s,
		cfg:        &s.cfg,
		sendWindow: 65535,
		peerWindow: 65535,
		peerFrame:  maxFrameSize,
		recvWindow: 65535,
		lastActive: s.now,
		junkSince:  s.now,
	}
	c.dec = hpack.NewDecoder(4096, c.onField)
	c.dec.SetMaxStringLength(c.cfg.MaxHeaderListSize)
	return c
}

// Done reports whether the connection is finished: it should be closed once
// the output appended so far is written.
func (c *Conn) Done() bool { return c.done }

// Feed processes the complete frames at the start of in, appending what
// they call for to out, and returns how many bytes it used; the caller
// keeps the rest for the next Feed, with more input. Feed also sends what
// flow control allowed since the last call, so it may be called with no
// input. It stops early once out holds a batch (about 256 KiB): call it
// again after writing out (see Busy).
func (c *Conn) Feed(in []byte, out Sink) int {
	c.out = out
	c.srv.w.b = out.Buffer()
	c.srv.feeding = c
	defer c.retain()
	pos := 0
	if !c.prefaceDone {
		n, ok := c.preface(in)
		if !ok {
			return n
		}
		pos = n
	}
	if !c.started {
		c.start()
	}
	for !c.done && out.Len() < batchLimit && len(in)-pos >= 9 {
		n := int(in[pos])<<16 | int(in[pos+1])<<8 | int(in[pos+2])
		if n > maxFrameSize {
			c.connError(xhttp2.ErrCodeFrameSize, "frame too large")
			break
		}
		if len(in)-pos < 9+n {
			break
		}
		c.frame(in[pos : pos+9+n])
		pos += 9 + n
	}
	c.pump()
	return pos
}

// Busy reports whether the connection has output it could produce now
// without more input: answers that flow control or a full batch held back.
func (c *Conn) Busy() bool {
	if c.done || !c.prefaceDone {
		return false
	}
	for _, s := range c.streams {
		if s.deferred && c.blockedBytes <= c.cfg.MaxBlocked && (s.slot || c.cfg.Acquire == nil) ||
			len(s.pending) > 0 && s.sendWindow > 0 && c.sendWindow > 0 {
			return true
		}
	}
	return false
}

// Waiting reports whether a complete request waits for a concurrency slot
// (Config.Acquire): the caller should Feed the connection again, with no
// new input if need be, once slots may have been released.
func (c *Conn) Waiting() bool {
	if c.done {
		return false
	}
	for _, s := range c.streams {
		if s.deferred && !s.slot && c.blockedBytes <= c.cfg.MaxBlocked {
			return true
		}
	}
	return false
}

// preface checks the client preface and reports whether it is complete.
func (c *Conn) preface(in []byte) (int, bool) {
	n := min(len(in), len(Preface))
	if string(in[:n]) != Preface[:n] {
		c.start()
		c.connError(xhttp2.ErrCodeProtocol, "invalid connection preface")
		return len(in), false
	}
	if n < len(Preface) {
		return 0, false
	}
	c.prefaceDone = true
	return n, true
}

// start sends our SETTINGS and raises the connection's receive window.
func (c *Conn) start() {
	c.started = true
	c.srv.fr.WriteSettings(
		xhttp2.Setting{ID: xhttp2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		xhttp2.Setting{ID: xhttp2.SettingMaxHeaderListSize, Val: uint32(c.cfg.MaxHeaderListSize)},
	)
	c.srv.fr.WriteWindowUpdate(0, connWindow-65535)
	c.recvWindow = connWindow
}

// frame handles one complete frame.
func (c *Conn) frame(f []byte) {
	typ := xhttp2.FrameType(f[3])
	flags := xhttp2.Flags(f[4])
	id := binary.BigEndian.Uint32(f[5:9]) & (1<<31 - 1)
	p := f[9:]
	if c.contID != 0 && (typ != xhttp2.FrameContinuation || id != c.contID) {
		c.connError(xhttp2.ErrCodeProtocol, "expected CONTINUATION")
		return
	}
	if !c.settingsIn && typ != xhttp2.FrameSettings {
		c.connError(xhttp2.ErrCodeProtocol, "first frame not SETTINGS")
		return
	}
	switch typ {
	case xhttp2.FrameData:
		c.data(id, flags, p)
	case xhttp2.FrameHeaders:
		c.headers(id, flags, p)
	case xhttp2.FrameContinuation:
		c.continuation(id, flags, p)
	case xhttp2.FrameWindowUpdate:
		c.windowUpdate(id, p)
	case xhttp2.FrameSettings, xhttp2.FramePing, xhttp2.FrameRSTStream,
		xhttp2.FramePriority, xhttp2.FrameGoAway, xhttp2.FramePushPromise:
		c.control(f)
	default:
		c.calm() // unknown frame types are ignored
	}
}

// control reads a rarer frame with the Framer, which validates it.
func (c *Conn) control(f []byte) {
	c.srv.rd.Reset(f)
	fr, err := c.srv.fr.ReadFrame()
	if err != nil {
		c.frameError(err)
		return
	}
	switch fr := fr.(type) {
	case *xhttp2.SettingsFrame:
		c.settings(fr)
	case *xhttp2.PingFrame:
		if c.calm() && !fr.IsAck() {
			c.srv.fr.WritePing(true, fr.Data)
		}
	case *xhttp2.RSTStreamFrame:
		c.rstStream(fr.StreamID)
	case *xhttp2.PriorityFrame:
		if c.calm() && fr.StreamDep == fr.StreamID {
			c.rst(fr.StreamID, xhttp2.ErrCodeProtocol)
		}
	case *xhttp2.GoAwayFrame:
		c.peerGoAway = true
		c.finishIfIdle()
	case *xhttp2.PushPromiseFrame:
		c.connError(xhttp2.ErrCodeProtocol, "PUSH_PROMISE from a client")
	}
}

// frameError answers a frame the Framer refused.
func (c *Conn) frameError(err error) {
	switch e := err.(type) {
	case xhttp2.StreamError:
		c.rst(e.StreamID, e.Code)
	case xhttp2.ConnectionError:
		c.connError(xhttp2.ErrCode(e), "invalid frame")
	default:
		c.connError(xhttp2.ErrCodeProtocol, "invalid frame")
	}
}

// settings applies a SETTINGS frame in order and acknowledges it.
func (c *Conn) settings(f *xhttp2.SettingsFrame) {
	if f.IsAck() {
		return
	}
	if c.settingsIn && !c.calm() {
		return
	}
	c.settingsIn = true
	for i := 0; i < f.NumSettings(); i++ {
		if !c.apply(f.Setting(i)) {
			return
		}
	}
	c.srv.fr.WriteSettingsAck()
}

// apply applies one setting and reports false after a connection error.
func (c *Conn) apply(s xhttp2.Setting) bool {
	if err := s.Valid(); err != nil {
		c.frameError(err)
		return false
	}
	switch s.ID {
	case xhttp2.SettingInitialWindowSize:
		delta := int64(s.Val) - c.peerWindow
		c.peerWindow = int64(s.Val)
		for _, st := range c.streams {
			st.sendWindow += delta
			if st.sendWindow > 1<<31-1 {
				c.connError(xhttp2.ErrCodeFlowControl, "window overflow")
				return false
			}
		}
	case xhttp2.SettingMaxFrameSize:
		c.peerFrame = int(s.Val)
	}
	return true
}

// windowUpdate credits a send window (RFC 9113, section 6.9).
func (c *Conn) windowUpdate(id uint32, p []byte) {
	if len(p) != 4 {
		c.connError(xhttp2.ErrCodeFrameSize, "WINDOW_UPDATE length")
		return
	}
	inc := int64(binary.BigEndian.Uint32(p) & (1<<31 - 1))
	if id == 0 {
		if inc == 0 {
			c.connError(xhttp2.ErrCodeProtocol, "WINDOW_UPDATE of 0")
			return
		}
		if c.sendWindow += inc; c.sendWindow > 1<<31-1 {
			c.connError(xhttp2.ErrCodeFlowControl, "window overflow")
		}
		return
	}
	if id > c.maxClientID {
		c.connError(xhttp2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream")
		return
	}
	s := c.stream(id)
	switch {
	case s == nil:
	case inc == 0:
		c.rst(id, xhttp2.ErrCodeProtocol)
	default:
		if s.sendWindow += inc; s.sendWindow > 1<<31-1 {
			c.rst(id, xhttp2.ErrCodeFlowControl)
		}
	}
}

// rstStream handles the peer's RST_STREAM.
func (c *Conn) rstStream(id uint32) {
	if id > c.maxClientID {
		c.connError(xhttp2.ErrCodeProtocol, "RST_STREAM on an idle stream")
		return
	}
	if !c.calm() {
		return
	}
	if s := c.stream(id); s != nil {
		c.srv.stats.resets.Add(1)
		c.close(s)
	}
}

// calm counts a frame that carries no request, and closes the connection
// with ENHANCE_YOUR_CALM once there are too many in a second. It reports
// whether the connection carries on.
func (c *Conn) calm() bool {
	now := c.srv.now
	if now.Sub(c.junkSince) >= time.Second {
		c.junk, c.junkSince = 0, now
	}
	if c.junk++; c.junk > c.cfg.MaxControlRate {
		c.connError(xhttp2.ErrCodeEnhanceYourCalm, "too many frames without requests")
		return false
	}
	return true
}

// connError ends the connection with GOAWAY.
func (c *Conn) connError(code xhttp2.ErrCode, reason string) {
	if c.done {
		return
	}
	c.srv.stats.errors.Add(1)
	c.srv.fr.WriteGoAway(c.maxClientID, code, []byte(reason))
	c.contID = 0
	for len(c.streams) > 0 {
		c.close(c.streams[len(c.streams)-1])
	}
	c.done = true
}

// rst resets a stream (a stream error) and forgets it.
func (c *Conn) rst(id uint32, code xhttp2.ErrCode) {
	c.srv.fr.WriteRSTStream(id, code)
	c.resets[c.resetNext] = id
	c.resetNext = (c.resetNext + 1) % recentIDs
	if s := c.stream(id); s != nil {
		c.close(s)
	}
}

// resetByUs reports whether we reset stream id lately: its late frames are
// ignored.
func (c *Conn) resetByUs(id uint32) bool { return slices.Contains(c.resets[:], id) }

// closedLately reports whether stream id was open lately. HEADERS on it is
// a STREAM_CLOSED error; on a lower ID never used, a PROTOCOL_ERROR.
func (c *Conn) closedLately(id uint32) bool { return slices.Contains(c.closed[:], id) }

// Close ends the connection without a word, when its socket is gone: its
// streams are dropped and their concurrency slots given back.
func (c *Conn) Close() {
	c.contID = 0
	for len(c.streams) > 0 {
		c.close(c.streams[len(c.streams)-1])
	}
	c.done = true
}

// Shutdown starts a graceful drain: GOAWAY(NO_ERROR) with the last stream
// accepted; the open streams are answered and the connection is Done once
// they are.
func (c *Conn) Shutdown(out Sink) {
	if c.done || c.goingAway {
		return
	}
	c.out = out
	c.srv.w.b = out.Buffer()
	if !c.started {
		c.start()
	}
	c.goingAway = true
	c.srv.fr.WriteGoAway(c.maxClientID, xhttp2.ErrCodeNo, nil)
	c.finishIfIdle()
}

// finishIfIdle ends a draining connection that has no open stream.
func (c *Conn) finishIfIdle() {
	if (c.goingAway || c.peerGoAway) && len(c.streams) == 0 && c.contID == 0 {
		c.done = true
	}
}

// Deadline returns when Expire must next be called.
func (c *Conn) Deadline() time.Time {
	var oldest time.Time
	for _, s := range c.streams {
		if s.state == stateOpen && (oldest.IsZero() || s.started.Before(oldest)) {
			oldest = s.started
		}
	}
	if !oldest.IsZero() {
		return oldest.Add(c.cfg.ReadTimeout)
	}
	return c.lastActive.Add(c.cfg.IdleTimeout)
}

// Expire enforces the timeouts at now: streams still incomplete after
// ReadTimeout are answered 408 and reset; a connection idle (or stalled)
// for IdleTimeout gets GOAWAY and is Done.
func (c *Conn) Expire(now time.Time, out Sink) {
	if c.done {
		return
	}
	c.out = out
	c.srv.w.b = out.Buffer()
	defer c.retain()
	for i := 0; i < len(c.streams); {
		s := c.streams[i]
		if s.state == stateOpen && !now.Before(s.started.Add(c.cfg.ReadTimeout)) {
			c.refuse(s, errTimeout)
			continue // s is gone from c.streams
		}
		i++
	}
	if !now.Before(c.lastActive.Add(c.cfg.IdleTimeout)) {
		c.goingAway = true
		c.srv.fr.WriteGoAway(c.maxClientID, xhttp2.ErrCodeNo, []byte("idle"))
		for len(c.streams) > 0 {
			c.close(c.streams[len(c.streams)-1])
		}
		c.done = true
	}
}
