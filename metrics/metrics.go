// Package metrics counts what each shard serves, in the shard's own memory,
// and writes the counts, summed at scrape time, in the Prometheus text
// exposition format, with the Go runtime's and the process's own metrics.
//
// A shard's counters are written only by that shard, in memory no other
// shard writes: its event loop's thread with plain adds, and the goroutines
// that serve its HTTP/2 streams and std-engine requests with atomic adds.
// Counting allocates nothing and looks nothing up by label; the scrape
// sums what it reads.
package metrics

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// Route is the API operation a request asked for: the route label of
// corekv_requests_total. It has a fixed set of values, so that what clients
// send cannot grow the number of series.
type Route uint8

// The routes.
const (
	RouteNone   Route = iota // no route matched (404, 405) or the request was malformed
	RouteHello               // GET or HEAD /
	RouteGet                 // GET or HEAD /get/{key}
	RouteStore               // POST or PUT /store/{key}
	RouteDelete              // DELETE /store/{key}
	RouteStats               // GET or HEAD /stats
	numRoutes
)

var routeNames = [numRoutes]string{"none", "hello", "get", "store", "delete", "stats"}

// Method is a request's method, as a label value: the API's methods, and
// "other" for any other.
type Method uint8

// The methods.
const (
	MethodOther Method = iota
	MethodGet
	MethodHead
	MethodPost
	MethodPut
	MethodDelete
	numMethods
)

var methodNames = [numMethods]string{"other", "GET", "HEAD", "POST", "PUT", "DELETE"}

// MethodOf returns the Method of a request method.
func MethodOf(m string) Method {
	switch m {
	case "GET":
		return MethodGet
	case "HEAD":
		return MethodHead
	case "POST":
		return MethodPost
	case "PUT":
		return MethodPut
	case "DELETE":
		return MethodDelete
	}
	return MethodOther
}

// Proto is the protocol a request came by.
type Proto uint8

// The protocols.
const (
	HTTP11 Proto = iota // HTTP/1.1
	HTTP10              // HTTP/1.0
	HTTP2               // HTTP/2 (h2c)
	numProtos
)

var protoNames = [numProtos]string{"HTTP/1.1", "HTTP/1.0", "HTTP/2.0"}

// statusCodes are the statuses corekv answers with, each counted apart;
// index 0 counts any other as "other".
var statusCodes = [...]string{"other", "200", "204", "400", "404", "405", "408", "411",
	"413", "414", "417", "431", "500", "501", "503", "505", "507"}

const numStatuses = len(statusCodes)

// statusIndex returns the index of code in statusCodes, 0 if absent.
func statusIndex(code int) int {
	switch code {
	case 200:
		return 1
	case 204:
		return 2
	case 400:
		return 3
	case 404:
		return 4
	case 405:
		return 5
	case 408:
		return 6
	case 411:
		return 7
	case 413:
		return 8
	case 414:
		return 9
	case 417:
		return 10
	case 431:
		return 11
	case 500:
		return 12
	case 501:
		return 13
	case 503:
		return 14
	case 505:
		return 15
	case 507:
		return 16
	}
	return 0
}

// Bounds are the upper bounds of the latency histogram's buckets, from
// 10 µs to 1 s; a last bucket (+Inf) takes the rest.
var Bounds = [...]time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second,
}

const numBuckets = len(Bounds) + 1

// Timeout is why a connection was closed on a deadline.
type Timeout uint8

// The timeouts.
const (
	TimeoutIdle  Timeout = iota // no request within the idle timeout
	TimeoutRead                 // a request not complete within the read timeout (408)
	TimeoutWrite                // answers left unread past the idle timeout
	numTimeouts
)

var timeoutNames = [numTimeouts]string{"idle", "read", "write"}

// Pause is why a shard stopped accepting connections for a while.
type Pause uint8

// The pauses.
const (
	PauseMaxConns    Pause = iota // the shard holds --max-conns connections
	PauseDescriptors              // the process is out of descriptors or memory
	numPauses
)

var pauseNames = [numPauses]string{"max_conns", "descriptors"}

// cacheLine is the padding between shards' counters: two 64-byte lines,
// since the adjacent-line prefetcher fetches lines in pairs.
const cacheLine = 128

// Shard holds one shard's counters: Loop for its event loop's thread, and
// Shared for the goroutines that serve it (HTTP/2 streams, the std
// engine). Allocate one per shard (new(Shard)); its padding keeps each
// half on cache lines of its own. The zero value is ready.
type Shard struct {
	_ [cacheLine]byte
	// Loop is written by one thread only, with plain adds.
	Loop Counters
	_    [cacheLine]byte
	// Shared may be written by any of the shard's goroutines.
	Shared Shared
	_      [cacheLine]byte
}

// Counters are a shard's counts as a single writer keeps them: plain adds,
// a few nanoseconds a request, where an atomic add costs about 17 each
// (see BenchmarkHotPath). A scrape reads them while they change (see
// snapshot); on a 64-bit platform each count is read whole, as the Go
// memory model guarantees for a machine word.
type Counters struct {
	requests   [numRoutes][numMethods][numStatuses][numProtos]uint64
	latency    [numBuckets]uint64
	latencySum uint64 // nanoseconds

	received, sent uint64
	accepted       uint64
	timeouts       [numTimeouts]uint64
	pauses         [numPauses]uint64
	slotWaits      uint64
	streams        uint64
	resets         uint64
	hits, misses   uint64
}

// Shared are the same counts kept with atomic adds, for a shard's
// goroutines.
type Shared Counters

// bucket returns the histogram bucket of a latency.
func bucket(d time.Duration) int {
	i := 0
	for i < len(Bounds) && d > Bounds[i] {
		i++
	}
	return i
}

// Request counts one answered request.
func (c *Counters) Request(r Route, m Method, status int, p Proto) {
	c.requests[r][m][statusIndex(status)][p]++
}

// Observe counts a request's latency, from its first byte read to its
// answer's last byte handed to the kernel, in the histogram.
func (c *Counters) Observe(d time.Duration) {
	c.latency[bucket(d)]++
	c.latencySum += uint64(max(d, 0))
}

// ObserveN counts n requests of the same latency, answered by one write.
func (c *Counters) ObserveN(d time.Duration, n int) {
	c.latency[bucket(d)] += uint64(n)
	c.latencySum += uint64(n) * uint64(max(d, 0))
}

// Received counts bytes read from clients.
func (c *Counters) Received(n int) { c.received += uint64(n) }

// Sent counts bytes handed to the kernel for clients.
func (c *Counters) Sent(n int) { c.sent += uint64(n) }

// Accepted counts a connection accepted.
func (c *Counters) Accepted() { c.accepted++ }

// TimedOut counts a connection closed on a deadline.
func (c *Counters) TimedOut(t Timeout) { c.timeouts[t]++ }

// Paused counts the shard stopping to accept connections for a while.
func (c *Counters) Paused(p Pause) { c.pauses[p]++ }

// SlotWait counts a request that found no free concurrency slot and
// waited for one.
func (c *Counters) SlotWait() { c.slotWaits++ }

// Lookup counts a GET or HEAD of a key: a hit if it was found.
func (c *Counters) Lookup(hit bool) {
	if hit {
		c.hits++
		return
	}
	c.misses++
}

// Request counts one answered request.
func (c *Shared) Request(r Route, m Method, status int, p Proto) {
	atomic.AddUint64(&c.requests[r][m][statusIndex(status)][p], 1)
}

// Observe counts a request's latency in the histogram.
func (c *Shared) Observe(d time.Duration) {
	atomic.AddUint64(&c.latency[bucket(d)], 1)
	atomic.AddUint64(&c.latencySum, uint64(max(d, 0)))
}

// Received counts bytes read from clients.
func (c *Shared) Received(n int) { atomic.AddUint64(&c.received, uint64(n)) }

// Sent counts bytes handed to the kernel for clients.
func (c *Shared) Sent(n int) { atomic.AddUint64(&c.sent, uint64(n)) }

// Accepted counts a connection accepted.
func (c *Shared) Accepted() { atomic.AddUint64(&c.accepted, 1) }

// TimedOut counts a connection closed on a deadline.
func (c *Shared) TimedOut(t Timeout) { atomic.AddUint64(&c.timeouts[t], 1) }

// SlotWait counts a request that waited for a concurrency slot.
func (c *Shared) SlotWait() { atomic.AddUint64(&c.slotWaits, 1) }

// Stream counts an HTTP/2 stream opened by a client.
func (c *Shared) Stream() { atomic.AddUint64(&c.streams, 1) }

// Reset counts an HTTP/2 stream reset by the client.
func (c *Shared) Reset() { atomic.AddUint64(&c.resets, 1) }

// Lookup counts a GET or HEAD of a key: a hit if it was found.
func (c *Shared) Lookup(hit bool) {
	if hit {
		atomic.AddUint64(&c.hits, 1)
		return
	}
	atomic.AddUint64(&c.misses, 1)
}

// words views counters as the array of uint64 they are.
func words(c *Counters) *[unsafe.Sizeof(Counters{}) / 8]uint64 {
	return (*[unsafe.Sizeof(Counters{}) / 8]uint64)(unsafe.Pointer(c))
}

// Snapshot returns the sum of the shard's two halves, read while they
// change. A count written by plain adds on another thread is read with a
// plain load, one word at a time: the race detector is told to look away
// (norace), and the Go memory model guarantees the load sees a value
// that was written. Counts only grow, so a snapshot is never behind an
// earlier one.
//
//go:norace
func (s *Shard) Snapshot() Counters {
	var sum Counters
	d, a, b := words(&sum), words(&s.Loop), words((*Counters)(&s.Shared))
	for i := range d {
		d[i] = a[i] + b[i]
	}
	return sum
}

// Requests returns the requests answered, over every label.
func (c *Counters) Requests() uint64 {
	var n uint64
	for r := range c.requests {
		for m := range c.requests[r] {
			for st := range c.requests[r][m] {
				for p := range c.requests[r][m][st] {
					n += c.requests[r][m][st][p]
				}
			}
		}
	}
	return n
}

// Accepts returns the connections accepted.
func (c *Counters) Accepts() uint64 { return c.accepted }
