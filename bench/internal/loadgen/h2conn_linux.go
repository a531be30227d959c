package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/workload"
)

// h2Conn is one h2c connection (prior knowledge) of an h2Loop: many
// streams in flight, frames read with http2.Framer out of a buffer that
// holds whole frames, and written into one output buffer, flushed once
// per wake-up.
type h2Conn struct {
	id   int32
	fd   int // a non-blocking socket, outside the Go runtime's poller
	epfd int // the loop's epoll set
	w    *workload.Workload
	reqs *h2Requests
	gen  *workload.Generator
	rec  *recorder
	fr   *http2.Framer
	dec  *hpack.Decoder

	rbuf       []byte // rbuf[roff:rlen] is read and not yet parsed
	roff, rlen int
	wbuf       []byte // wbuf[woff:] is to be written
	woff       int
	block, key []byte // scratch: a request's header block, a path

	streams    map[uint32]*h2Stream // in flight
	spare      []*h2Stream          // finished, for reuse
	nextID     uint32
	limit      int // streams in flight at most: maxStreams, or fewer if the server says so
	maxStreams int // Config.Streams

	// Flow control of what we send: the connection's window, the
	// server's initial stream window and frame size, and the streams
	// whose body waits for window.
	sendWin     int64
	peerWin     int64
	maxFrame    int
	blocked     []*h2Stream
	recvUnacked int64 // DATA bytes received and not yet given back
	sizeUpdate  bool  // the next header block starts with a table size update

	hdr       *h2Stream // the stream whose header block is being decoded
	hdrKnown  bool      // hdr is a stream in flight (not one already given up)
	hdrEnd    bool      // the HEADERS frame ended the stream
	hdrStatus int
	settings  bool // the server's first SETTINGS arrived

	due       []time.Time // open loop: intended sends waiting for a free stream
	dueHead   int
	unstamped []*h2Stream // closed loop: sent, awaiting a send time
	next      func() (workload.Op, bool)
	end       time.Time

	now time.Time // the time of the wake-up being handled

	goAway    bool
	goAwayErr error
	wantOut   bool
	dirty     bool
	err       error
}

// h2Stream is one request in flight.
type h2Stream struct {
	id          uint32
	op          workload.Op
	at          time.Time
	status      int
	body        []byte // the answer's DATA so far
	out         []byte // the request's body
	outOff      int    // out[outOff:] is not sent yet
	sendWin     int64
	recvUnacked int64
}

// Flow-control settings of the client: the stream window it advertises
// and its connection window, each given back (WINDOW_UPDATE) once half
// of it is used.
const (
	h2StreamWindow = 1 << 20
	h2ConnWindow   = 16 << 20
	h2MaxFrame     = 16384 // SETTINGS_MAX_FRAME_SIZE, the default
	h2MaxStreamID  = 1<<31 - 1
)

var (
	errGoAway   = errors.New("server sent GOAWAY")
	errNoStream = errors.New("frame for a stream never opened")
)

func dialH2Conn(ctx context.Context, cfg Config, w *workload.Workload, reqs *h2Requests, rec *recorder, seed uint64) (*h2Conn, error) {
	fd, err := dialRaw(ctx, cfg.Addr)
	if err != nil {
		return nil, err
	}
	c := &h2Conn{
		fd: fd, epfd: -1, w: w, reqs: reqs, gen: w.Generator(seed), rec: rec,
		rbuf: make([]byte, readBuf), streams: map[uint32]*h2Stream{}, nextID: 1, limit: cfg.Streams, maxStreams: cfg.Streams,
		sendWin: 65535, peerWin: 65535, maxFrame: h2MaxFrame,
	}
	c.fr = http2.NewFramer(c, c)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(h2MaxFrame)
	c.dec = hpack.NewDecoder(4096, c.emit)
	if err := c.handshake(ctx, cfg.Timeout); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("h2c handshake: %w", err)
	}
	return c, nil
}

// handshake sends the preface and the client's settings, and waits for
// the server's SETTINGS: a server that does not speak h2c fails here.
func (c *h2Conn) handshake(ctx context.Context, timeout time.Duration) error {
	c.wbuf = append(c.wbuf, http2.ClientPreface...)
	_ = c.fr.WriteSettings( // writes into wbuf: cannot fail
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
	)
	_ = c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	deadline := time.Now().Add(timeout)
	for !c.settings {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SETTINGS from the server: %w", os.ErrDeadlineExceeded)
		}
		c.flush()
		if c.err == nil {
			events := int16(unix.POLLIN)
			if c.woff < len(c.wbuf) {
				events |= unix.POLLOUT
			}
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(c.fd), Events: events}}, 10)
			c.receive(time.Now())
		}
		if c.err != nil {
			return c.err
		}
	}
	c.flush()
	return c.err
}

// Read serves the Framer the bytes of the frame being parsed.
func (c *h2Conn) Read(p []byte) (int, error) {
	if c.roff == c.rlen {
		return 0, io.ErrUnexpectedEOF // parse hands over whole frames only
	}
	n := copy(p, c.rbuf[c.roff:c.rlen])
	c.roff += n
	return n, nil
}

// Write takes the Framer's frames into the output buffer.
func (c *h2Conn) Write(p []byte) (int, error) {
	c.wbuf = append(c.wbuf, p...)
	return len(p), nil
}

// canSend reports whether c may open another stream now.
func (c *h2Conn) canSend() bool {
	return c.err == nil && !c.goAway && len(c.streams) < c.limit && c.nextID <= h2MaxStreamID
}

// start opens a stream for op, intended at at, and writes its request.
func (c *h2Conn) start(op workload.Op, at time.Time) *h2Stream {
	s := c.newStream()
	s.id, s.op, s.at = c.nextID, op, at
	c.nextID += 2
	c.streams[s.id] = s
	c.block = c.block[:0]
	if c.sizeUpdate {
		c.block, c.sizeUpdate = appendHPACKInt(c.block, hpackTableSize, 5, 0), false
	}
	c.block, c.key = c.reqs.appendBlock(c.block, c.key, op)
	get := op.Kind == workload.Get
	_ = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.id, BlockFragment: c.block, EndStream: get, EndHeaders: true})
	if !get {
		s.out = c.w.AppendValue(s.out[:0], op.Key, op.Version)
		c.sendBody(s)
	}
	c.rec.sent++
	return s
}

func (c *h2Conn) newStream() *h2Stream {
	if n := len(c.spare); n > 0 {
		s := c.spare[n-1]
		c.spare = c.spare[:n-1]
		s.status, s.body, s.out, s.outOff, s.recvUnacked = 0, s.body[:0], s.out[:0], 0, 0
		s.sendWin = c.peerWin
		return s
	}
	return &h2Stream{sendWin: c.peerWin}
}

// release forgets a finished stream. One answered before its request's
// body was all sent is reset: the rest is not wanted.
func (c *h2Conn) release(s *h2Stream) {
	delete(c.streams, s.id)
	if s.outOff < len(s.out) {
		_ = c.fr.WriteRSTStream(s.id, http2.ErrCodeCancel)
		c.blocked = slices.DeleteFunc(c.blocked, func(b *h2Stream) bool { return b == s })
	}
	c.spare = append(c.spare, s)
}

// sendBody writes as much of s's body as the windows allow, and queues
// s as blocked if some is left. It reports whether s is done sending.
func (c *h2Conn) sendBody(s *h2Stream) bool {
	for {
		n := min(int64(len(s.out)-s.outOff), c.sendWin, s.sendWin, int64(c.maxFrame))
		last := s.outOff+int(n) == len(s.out)
		if n <= 0 && !last {
			c.blocked = append(c.blocked, s)
			return false
		}
		_ = c.fr.WriteData(s.id, last, s.out[s.outOff:s.outOff+int(n)])
		s.outOff += int(n)
		c.sendWin -= n
		s.sendWin -= n
		if last {
			return true
		}
	}
}

// unblock resumes the bodies that wait for window, in order.
func (c *h2Conn) unblock() {
	blocked := c.blocked
	c.blocked = nil
	for i, s := range blocked {
		if !c.sendBody(s) {
			c.blocked = append(c.blocked, blocked[i+1:]...)
			return
		}
	}
}
