// Package shard serves corekv's API from a group of shards: one
// SO_REUSEPORT listener per planned CPU, each with its own concurrency
// semaphore, all sharing one store.
//
// The loop engine (Linux) runs each shard as one goroutine locked to its OS
// thread, optionally pinned to the shard's CPU, that does everything itself:
// epoll over its listener and its connections, HTTP/1.1 (internal/http1)
// and HTTP/2 over cleartext by prior knowledge or Upgrade (internal/http2),
// the operation (api.Exec) and the response. The std engine serves the same
// listeners with net/http (and x/net/http2 for h2c), as the baseline to
// compare against.
package shard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http2"
	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/store"
	"github.com/corekv/corekv/topology"
)

// The engines.
const (
	EngineLoop = "loop" // per-shard epoll event loops (Linux only)
	EngineStd  = "std"  // net/http, a goroutine per connection
)

// Defaults.
const (
	DefaultConcurrencyLimit = 250
	DefaultMaxHeaderSize    = 16 << 10
	DefaultShutdownTimeout  = 10 * time.Second
	DefaultReadTimeout      = 30 * time.Second
	DefaultIdleTimeout      = 2 * time.Minute
	DefaultMaxConns         = 10000
)

// Config describes a group of shards. Zero fields mean their defaults.
type Config struct {
	// Engine is EngineLoop (default on Linux) or EngineStd.
	Engine string
	// Plan places the shards: one per entry, served on the listener of the
	// same index.
	Plan      []topology.Shard
	Listeners []*socket.Listener
	// Pin pins each shard's event-loop thread to its planned CPU. The loop
	// engine only.
	Pin bool
	// Store is shared by all shards.
	Store *store.Cache
	// Limits bounds keys and values.
	Limits api.Limits
	// DefaultTTL is the time to live of a value stored without a ttl
	// parameter; 0 means none (the default).
	DefaultTTL time.Duration
	// ConcurrencyLimit bounds the requests one shard serves at once: HTTP/1
	// requests (pipelined ones each count while they are served) and HTTP/2
	// streams. Beyond it requests wait; none is dropped. Default 250.
	ConcurrencyLimit int
	// MaxHeaderSize bounds an HTTP/1 request line plus its header fields, in
	// bytes. Default 16 KiB.
	MaxHeaderSize int
	// MaxConns bounds the open connections of one shard, HTTP/1 and HTTP/2
	// alike. At the limit the shard stops accepting: further connections
	// wait in the kernel's accept queue (or are refused by the kernel when
	// it is full) until one closes. Default 10000.
	MaxConns int
	// ReadTimeout bounds the time from a request's first byte to its last.
	// A request still incomplete then is answered 408 (the std engine just
	// closes) and its connection closed, so slow clients cannot hold a
	// shard's connections. Default 30s.
	ReadTimeout time.Duration
	// IdleTimeout closes a connection that carries no request for this
	// long. It also bounds write stalls: answers a client leaves unread
	// count as idle time, so a connection whose queued output the socket
	// has not taken within IdleTimeout is closed. The loop engine queues at
	// most about 256 KiB of answers plus one value per connection and reads
	// no further requests from it meanwhile; the std engine uses it as
	// net/http's WriteTimeout and HTTP/2's write-byte timeout. Default 2
	// minutes.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the drain after Serve's context ends. Default 10s.
	ShutdownTimeout time.Duration
	// MapBuffers, if set, maps the loop engine's fixed buffers of each
	// shard, its read buffer and its epoll event array: size bytes for
	// the shard's NUMA node, placed there before first touch, with the
	// signature of numa.Mapper.Map. The loop unmaps them when it ends.
	// Nil means the Go heap.
	MapBuffers func(size, node int) ([]byte, error)
	// ResidentByNode, if set, reports for /stats how many bytes of the
	// store's memory are resident on each NUMA node, as the kernel places
	// them (numa.Mapper.Resident). Nil leaves the field out.
	ResidentByNode func() (map[int]int64, error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logf logs one line. Default: no logging.
	Logf func(format string, args ...any)

	// wrap, if set, wraps the net/http handler (the std engine's
	// requests, over HTTP/1.1 and HTTP/2), inside the concurrency limit: a
	// hook for this package's tests, out of the public Config.
	wrap func(http.Handler) http.Handler
}

func (c Config) withDefaults() Config {
	if c.Engine == "" {
		c.Engine = defaultEngine
	}
	if c.ConcurrencyLimit <= 0 {
		c.ConcurrencyLimit = DefaultConcurrencyLimit
	}
	if c.MaxHeaderSize <= 0 {
		c.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	c.Limits = c.Limits.WithDefaults()
	return c
}

// Group is a set of shards serving one port.
type Group struct {
	cfg    Config
	shards []*shard
	// h1 and h2 serve the std engine's HTTP/2 connections (the loop
	// engine serves its own). h1 is never served on a listener: it carries
	// the base configuration and its Shutdown sends GOAWAY to every such
	// connection.
	h1 *http.Server
	h2 *xhttp2.Server
	// exec carries out the API's operations for every protocol.
	exec api.Exec
	// draining is set once Serve's context ended or a shard failed.
	draining atomic.Bool
}

// shard is one listener and whatever serves it.
type shard struct {
	g     *Group
	plan  topology.Shard
	ln    *socket.Listener
	sem   *semaphore
	count counters
	m     *metrics.Shard // counts by the shard, in memory of its own
	tid   atomic.Int64
	// serving is set while the shard's loop or net/http server runs.
	serving atomic.Bool
	pinned  atomic.Bool
	// h2srv is the loop's HTTP/2 server, for its counters.
	h2srv atomic.Pointer[http2.Server]
	// handler serves every request of the std engine, over HTTP/1.1
	// (net/http) and HTTP/2 (x/net/http2).
	handler http.Handler
	h2      h2Conns
}

// New checks cfg and prepares the group.
func New(cfg Config) (*Group, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.Engine != EngineLoop && cfg.Engine != EngineStd:
		return nil, fmt.Errorf("shard: unknown engine %q: want %q or %q", cfg.Engine, EngineLoop, EngineStd)
	case cfg.Engine == EngineStd && cfg.Pin:
		// The runtime moves the std engine's goroutines between threads at will.
		return nil, errors.New("shard: pinning needs the loop engine: net/http serves each connection on an unpinned goroutine")
	case len(cfg.Plan) == 0 || len(cfg.Plan) != len(cfg.Listeners):
		return nil, fmt.Errorf("shard: %d shards planned for %d listeners", len(cfg.Plan), len(cfg.Listeners))
	case cfg.Store == nil:
		return nil, errors.New("shard: no store")
	}
	if err := checkEngine(cfg.Engine); err != nil {
		return nil, err
	}
	g := &Group{
		cfg: cfg,
		// The HTTP/2 server takes its timeouts from h1: IdleTimeout for
		// idle connections, ReadTimeout and WriteTimeout per stream.
		h1: &http.Server{ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.IdleTimeout, IdleTimeout: cfg.IdleTimeout},
		h2: &xhttp2.Server{WriteByteTimeout: cfg.IdleTimeout},
	}
	if err := xhttp2.ConfigureServer(g.h1, g.h2); err != nil {
		return nil, fmt.Errorf("shard: configure http2: %w", err)
	}
	g.exec = api.Exec{Store: cfg.Store, Limits: cfg.Limits, DefaultTTL: cfg.DefaultTTL, Stats: g.WriteStats, Logf: cfg.Logf}
	for i, p := range cfg.Plan {
		s := &shard{g: g, plan: p, ln: cfg.Listeners[i], sem: newSemaphore(cfg.ConcurrencyLimit), m: new(metrics.Shard)}
		var h http.Handler = &api.Handler{Exec: g.exec, Done: s.countHTTP}
		if cfg.wrap != nil {
			h = cfg.wrap(h)
		}
		s.handler = s.limit(h)
		g.shards = append(g.shards, s)
	}
	return g, nil
}

// limit counts a request against the shard's semaphore while h serves it,
// and times h: net/http hands over a parsed request and buffers the
// answer, so the latency of these requests is the handler's time.
func (s *shard) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.sem.tryAcquire() {
			s.m.Shared.SlotWait()
			s.sem.acquire()
		}
		defer s.sem.release()
		if r.ProtoMajor == 2 {
			s.m.Shared.Stream()
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		s.m.Shared.Observe(time.Since(start))
	})
}

// Serve serves every shard until ctx ends, then drains: listeners close,
// requests already read are answered, idle connections close, and what is
// left after the shutdown timeout is cut. It returns the first shard error.
func (g *Group) Serve(ctx context.Context) error {
	// The shards stop only once the group says it drains, so that Ready
	// never sees a stopped shard before the drain.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	defer context.AfterFunc(ctx, func() { g.draining.Store(true); stop() })()
	maintained := make(chan struct{})
	go func() {
		defer close(maintained)
		g.maintainStore(sctx)
	}()
	defer func() { stop(); <-maintained }()
	errs := make(chan error, len(g.shards))
	for _, s := range g.shards {
		go func() { errs <- s.serve(sctx) }()
	}
	var first error
	left := len(g.shards)
	select {
	case first = <-errs: // a shard failed: stop the others
		left--
		g.draining.Store(true)
		stop()
	case <-ctx.Done():
		g.draining.Store(true)
		g.cfg.Logf("shutting down: draining for up to %v", g.cfg.ShutdownTimeout)
	}
	dctx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	g.h1.Shutdown(dctx) // GOAWAY to every HTTP/2 connection
	for ; left > 0; left-- {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// maintainStore does the store's background work a few times a second
// until ctx ends: all of it for the std engine's goroutine writers; with
// event loops, which evict and compact for themselves, the expiry that
// must go on while every loop is blocked (see store.Cache.Maintain).
func (g *Group) maintainStore(ctx context.Context) {
	t := time.NewTicker(storeMaintainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.cfg.Store.Maintain()
		}
	}
}

// storeMaintainEvery is how often maintainStore runs.
const storeMaintainEvery = 250 * time.Millisecond

// Ready returns nil once every shard serves, and an error saying why not
// before (a shard not serving yet) and from the start of the drain on.
func (g *Group) Ready() error {
	if g.draining.Load() {
		return errors.New("draining: shutting down")
	}
	for _, s := range g.shards {
		if !s.serving.Load() {
			return fmt.Errorf("shard %d not serving yet", s.plan.Shard)
		}
	}
	return nil
}

// serve runs one shard with the configured engine.
func (s *shard) serve(ctx context.Context) error {
	if s.g.cfg.Engine == EngineStd {
		return s.serveStd(ctx)
	}
	return s.serveLoop(ctx)
}
