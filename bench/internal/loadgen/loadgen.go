// Package loadgen drives a key-value server with a workload over HTTP/1.1
// or h2c, either open loop (requests at a fixed rate, latency measured
// from each request's intended send time) or closed loop (each connection
// sends as soon as its answers are in), and records latency in HDR
// histograms, send lateness, and every wrong answer.
package loadgen

import (
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/corekv/corekv/bench/internal/workload"
)

// Proto is the protocol spoken to the server.
type Proto string

// The protocols.
const (
	H1  Proto = "h1"  // HTTP/1.1, keep-alive and pipelining, over the package's own raw client
	H2C Proto = "h2c" // HTTP/2 over cleartext TCP with prior knowledge, over the package's own frame-level client
)

// Config says how to reach the server and how to load it. Its zero value
// loads 127.0.0.1:3000 over HTTP/1.1 with 16 connections.
type Config struct {
	// Addr is the server's host:port. Default "127.0.0.1:3000".
	Addr string
	// Proto is the protocol. Default H1.
	Proto Proto
	// Conns is the number of TCP connections. Default 16.
	Conns int
	// Streams is, for h2c, the number of streams (requests) in flight
	// per connection, fewer if the server's MAX_CONCURRENT_STREAMS says
	// so. Default 8.
	Streams int
	// Pipeline is, for HTTP/1.1 in closed loop, the number of requests
	// kept in flight per connection. Default 1 (no pipelining). Open loop
	// pipelines as the schedule demands.
	Pipeline int
	// Timeout is how long after the last intended send answers may still
	// arrive; later ones count as timeouts. Default 2s.
	Timeout time.Duration
	// Block makes the engine block in epoll_wait between events instead
	// of busy-polling its CPU: for a client that shares CPUs with the
	// server. See Result.Busy.
	Block bool
	// ConnCPUs, if set, pins each connection's traffic to a CPU: the
	// connections are dealt round-robin over these CPUs, each CPU's share
	// served by an event loop of its own on a thread pinned to it (and the
	// rate split in proportion). Over loopback the kernel then processes
	// each connection's SYN on its CPU, so a server steering connections
	// by CPU (corekv --steer=cpu) can be compared with one that hashes.
	// Empty: one loop on the calling thread. Result.Busy is then the
	// busiest loop's.
	ConnCPUs []int

	start time.Time // a pinned loop's first intended send; zero: now + startDelay
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:3000"
	}
	if c.Proto == "" {
		c.Proto = H1
	}
	if c.Conns == 0 {
		c.Conns = 16
	}
	if c.Streams == 0 {
		c.Streams = 8
	}
	if c.Pipeline == 0 {
		c.Pipeline = 1
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	return c
}

// Validate reports what is wrong with c, after defaults, or nil.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if c.Proto != H1 && c.Proto != H2C {
		errs = append(errs, fmt.Errorf("unknown protocol %q: want h1 or h2c", c.Proto))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"connections", c.Conns}, {"streams", c.Streams}, {"pipeline", c.Pipeline}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("%s %d: want at least 1", f.name, f.v))
		}
	}
	for _, cpu := range c.ConnCPUs {
		if cpu < 0 || cpu >= maxCPU {
			errs = append(errs, fmt.Errorf("connection CPU %d: want 0 to %d", cpu, maxCPU-1))
		}
	}
	return errors.Join(errs...)
}

// maxCPU bounds the CPU ids of Config.ConnCPUs, as the kernel's CPU set
// of sched_setaffinity does for the calling process.
const maxCPU = 1024

// Step is one timed run.
type Step struct {
	// Rate is the target in requests per second; 0 means closed loop.
	Rate float64
	// Duration is how long requests are sent.
	Duration time.Duration
}

// Errors counts failed requests by cause. None of them is timed.
type Errors struct {
	Status  int64 `json:"status"`  // an answer with an unexpected status
	Missing int64 `json:"missing"` // 404 for a key the generator wrote
	Wrong   int64 `json:"wrong"`   // a value the key cannot hold (workload.Check)
	IO      int64 `json:"io"`      // connection errors and unparsable answers
	Timeout int64 `json:"timeout"` // no answer within Config.Timeout of the end
}

// Total returns the number of failed requests.
func (e Errors) Total() int64 {
	return e.Status + e.Missing + e.Wrong + e.IO + e.Timeout
}

func (e *Errors) add(o Errors) {
	e.Status += o.Status
	e.Missing += o.Missing
	e.Wrong += o.Wrong
	e.IO += o.IO
	e.Timeout += o.Timeout
}

// Result is what one step measured.
type Result struct {
	Step Step
	// Start is the first intended send; Elapsed runs from it to the last
	// correct answer.
	Start   time.Time
	Elapsed time.Duration
	// Completed counts correct answers, Sent the requests written.
	Completed, Sent int64
	// Latency holds, per operation kind, the latency of correct answers in
	// nanoseconds: from the intended send time in open loop, from the
	// actual send in closed loop.
	Latency [workload.NumKinds]*hdrhistogram.Histogram
	// Lateness holds, in open loop, how late each request was sent after
	// its intended time, in nanoseconds. In h2c that includes waiting for
	// a free stream.
	Lateness *hdrhistogram.Histogram
	Errors   Errors
	// FirstError describes one failed request, for diagnosis.
	FirstError string
	// Busy is, for a busy-polling engine (not Config.Block), the time it
	// spent handling events and sending rather than polling: its CPU time
	// is all of the step, Busy is what the load needed. 0 otherwise.
	Busy time.Duration
}

// Throughput returns correct answers per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// All returns the latency histogram of every kind together.
func (r *Result) All() *hdrhistogram.Histogram {
	h := newHist()
	for _, k := range r.Latency {
		h.Merge(k)
	}
	return h
}

// maxLatency is the largest latency a histogram holds; larger values are
// recorded as it.
const maxLatency = int64(time.Minute)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxLatency, 3)
}
