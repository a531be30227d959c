// Package http2 serves HTTP/2 over cleartext (h2c) from an event loop: a
// server-side connection state machine that is fed the bytes read from a
// socket and appends everything it sends to one output batch, with no
// goroutine, channel, lock or system call of its own.
//
// Frames are read whole (a frame longer than 16,384 bytes is refused from
// its header alone) and checked with golang.org/x/net/http2's Framer; header
// blocks are decoded with x/net's hpack, one decoder per connection, and
// responses are encoded by hand from the static table. A request is answered
// when its stream ends, through Config.Serve with the API's protocol-neutral
// request and result; DATA frames reference a stored value without copying
// it, and only what flow control holds back past the end of a Feed is
// copied.
package http2

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"time"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

// Defaults.
const (
	DefaultMaxConcurrentStreams = 100
	DefaultMaxHeaderListSize    = 16 << 10
	DefaultMaxBodySize          = 1 << 20
	DefaultMaxBodyBuffer        = 4 << 20
	DefaultMaxBlocked           = 1 << 20
	DefaultMaxControlRate       = 1000
	DefaultReadTimeout          = 30 * time.Second
	DefaultIdleTimeout          = 2 * time.Minute
)

const (
	maxFrameSize = 16384   // the largest frame read, and sent
	connWindow   = 1 << 20 // the receive window of a connection
	batchLimit   = 256 << 10
	recentIDs    = 32      // closed and reset streams remembered
	keptStreams  = 8       // closed streams a connection keeps for reuse
	keptBuffer   = 4 << 10 // the largest body buffer a kept stream keeps
)

// Config configures a Server. Zero fields mean their defaults.
type Config struct {
	// Serve answers one request, at the end of its stream. It runs on the
	// caller of Feed; req is valid only until it returns. The Result's
	// Value may reference stored bytes: it must stay valid and unchanged
	// until the output of this Feed is written, and what flow control
	// holds back longer is copied. Required.
	Serve func(req *api.Request) api.Result
	// Acquire, if set, takes a concurrency slot for a stream and reports
	// whether it got one; Release gives it back once the stream's answer
	// is all sent (or the stream is reset). A stream takes a slot when it
	// opens; one that found none is still read, and its complete request
	// waits, unanswered, for a slot while the connection goes on (see
	// Waiting). Both or neither.
	Acquire func() bool
	Release func()
	// MaxConcurrentStreams is the streams one connection may have open,
	// advertised in SETTINGS. Streams whose answers wait for flow control
	// count. Default 100.
	MaxConcurrentStreams uint32
	// MaxHeaderListSize bounds a request's header list in bytes (names,
	// values and 32 per field, as RFC 9113 counts). Longer lists are
	// answered 431. Default 16 KiB.
	MaxHeaderListSize int
	// MaxBodySize is the largest request body in bytes; a larger one is
	// answered 413. Default 1 MiB.
	MaxBodySize int
	// MaxBodyBuffer bounds the request bodies one connection buffers in
	// bytes: beyond it only the oldest unfinished body gets flow-control
	// credit, so that it can finish. Default 4 MiB.
	MaxBodyBuffer int
	// MaxBlocked bounds the response bytes one connection holds copied
	// while flow control keeps them from the peer. Beyond it further
	// requests wait, unanswered, for the peer to take them. Default 1 MiB.
	MaxBlocked int
	// MaxControlRate is how many frames per second that carry no request
	// (PING, SETTINGS, RST_STREAM, PRIORITY, empty DATA or CONTINUATION,
	// unknown types, refused streams) a connection may send before it is
	// closed with ENHANCE_YOUR_CALM. Default 1000.
	MaxControlRate int
	// ReadTimeout bounds the time from a stream's HEADERS to its end; a
	// stream still incomplete then is answered 408 and reset. Default 30s.
	ReadTimeout time.Duration
	// IdleTimeout closes (GOAWAY) a connection with no open stream, or
	// whose blocked answers make no progress, for this long. Default 2m.
	IdleTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if c.MaxHeaderListSize <= 0 {
		c.MaxHeaderListSize = DefaultMaxHeaderListSize
	}
	if c.MaxBodySize <= 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxBodyBuffer <= 0 {
		c.MaxBodyBuffer = DefaultMaxBodyBuffer
	}
	if c.MaxBlocked <= 0 {
		c.MaxBlocked = DefaultMaxBlocked
	}
	if c.MaxControlRate <= 0 {
		c.MaxControlRate = DefaultMaxControlRate
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	return c
}

// Sink receives a connection's output for one write: bytes appended to a
// buffer, and references to external bytes that go out after them without
// a copy.
type Sink interface {
	// Buffer returns the buffer that output is appended to.
	Buffer() *[]byte
	// Value adds a reference to v after the bytes appended so far.
	Value(v []byte)
	// Len returns the bytes held, referenced ones included.
	Len() int
}

// Server holds the configuration and scratch state shared by the
// connections of one event loop. It must be used by one goroutine at a time.
type Server struct {
	cfg   Config
	rd    bytes.Reader
	fr    *xhttp2.Framer
	w     appender
	now   time.Time
	date  []byte
	stats counters
	// feeding is the connection in Feed or Upgrade, whose Serve calls
	// may return values the connection then references.
	feeding *Conn
}

// Own makes the connection being fed, if any, copy the values its
// answers still reference, as Feed does when it returns: for a Serve
// callback that must stop holding the values it returned before (see
// store.Shard.OnWait). Output already in the Sink is the caller's to
// copy (http1.Out.Own).
func (s *Server) Own() {
	if s.feeding != nil {
		s.feeding.own()
	}
}

// counters are read by other goroutines.
type counters struct {
	streams atomic.Uint64
	resets  atomic.Uint64
	refused atomic.Uint64
	errors  atomic.Uint64
}

// Stats are a server's counters.
type Stats struct {
	Streams uint64 // streams opened
	Resets  uint64 // streams reset by the peer
	Refused uint64 // streams refused: over a limit, or without a slot
	Errors  uint64 // connections ended by a connection error
}

// NewServer returns a server for one event loop.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg.withDefaults()}
	s.fr = xhttp2.NewFramer(&s.w, &s.rd)
	s.fr.SetReuseFrames()
	s.fr.SetMaxReadFrameSize(maxFrameSize)
	s.fr.AllowIllegalReads = true // CONTINUATION order is checked by Conn
	s.now = time.Now()
	return s
}

// SetTime sets the loop's clock and the value of the date header sent with
// answers (nil: none). date may be rewritten in place between Feeds.
func (s *Server) SetTime(now time.Time, date []byte) {
	s.now = now
	s.date = date
}

// Stats returns the server's counters. It may be called from any goroutine.
func (s *Server) Stats() Stats {
	return Stats{
		Streams: s.stats.streams.Load(),
		Resets:  s.stats.resets.Load(),
		Refused: s.stats.refused.Load(),
		Errors:  s.stats.errors.Load(),
	}
}

// Refusals the connection answers itself.
var (
	errHeadersTooLarge = &api.Problem{Status: http.StatusRequestHeaderFieldsTooLarge, Msg: "request header fields too large"}
	errTimeout         = &api.Problem{Status: http.StatusRequestTimeout, Msg: "request not received in time"}
)

// streamBody is the body of the request being served, received whole: an
// api.SizedBody, which the store copies into its own memory.
type streamBody struct{ b []byte }

// Value returns a copy of the body.
func (b *streamBody) Value(max int) ([]byte, error) {
	if len(b.b) > max {
		return nil, api.ErrValueTooLarge
	}
	return bytes.Clone(b.b), nil
}

// Size returns the body's length.
func (b *streamBody) Size() int { return len(b.b) }

// DecodeTo copies the body into dst.
func (b *streamBody) DecodeTo(dst []byte) { copy(dst, b.b) }

// appender is the Framer's writer: it appends to the current output.
type appender struct{ b *[]byte }

func (a *appender) Write(p []byte) (int, error) {
	*a.b = append(*a.b, p...)
	return len(p), nil
}
