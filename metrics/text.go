package metrics

import (
	"io"
	"math"
	"strconv"
)

// Labels place a shard. Each of its series carries shard, cpu and node;
// corekv_shard_info carries them all.
type Labels struct {
	Shard, CPU, Core, Package, Node int
}

// ShardScrape is one shard as a scrape sees it.
type ShardScrape struct {
	Labels
	// Counts are the shard's counts, from Shard.Snapshot.
	Counts Counters
	// Open is the number of client connections open, HTTP/1 and HTTP/2.
	Open int64
	// InFlight is the number of requests holding a concurrency slot now.
	InFlight int
	// Pinned reports whether the shard's loop thread is pinned to its CPU.
	Pinned bool
	// HTTP2 are the counts of the HTTP/2 server on the shard's event
	// loop, which keeps its own; its streams and resets add to Counts'.
	HTTP2 H2Counts
}

// H2Counts are an HTTP/2 server's counts.
type H2Counts struct {
	Streams uint64 // streams opened by the client
	Resets  uint64 // streams reset by the client
	Refused uint64 // streams refused: over a limit
	Errors  uint64 // connections ended by a connection error
}

// Store is the shared store as a scrape sees it.
type Store struct {
	// Items is the number of keys; Bytes the bytes of keys plus values.
	Items, Bytes int64
	// Memory is the memory the store mapped for its entries, by the NUMA
	// node it was placed for, when the store maps its own memory; nil
	// otherwise.
	Memory []NodeBytes
	// Evictions and Expirations count entries the store removed to make
	// room and because their time to live ran out.
	Evictions, Expirations uint64
}

// NodeBytes is an amount of memory on one NUMA node; Node -1 means
// placed for no node in particular.
type NodeBytes struct {
	Node  int
	Bytes int64
}

// Scrape is what one scrape exposes.
type Scrape struct {
	Engine string
	Shards []ShardScrape
	Store  Store
}

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes s in the Prometheus text exposition format: the
// counters of every shard, each series labelled with its shard, and the
// store's figures. It does not write the runtime's metrics: see
// WriteProcess.
func WriteText(w io.Writer, s *Scrape) error {
	t := &text{b: make([]byte, 0, 16<<10)}
	for _, sh := range s.Shards {
		t.prefixes = append(t.prefixes, sh.prefix())
	}
	t.info(s)
	t.requests(s)
	t.latency(s)
	t.connections(s)
	t.traffic(s)
	t.store(s)
	_, err := w.Write(t.b)
	return err
}

// text builds an exposition.
type text struct {
	b        []byte
	prefixes []string // per shard: its labels, `shard="0",cpu="0",node="0"`
}

func (l Labels) prefix() string {
	b := append([]byte(`shard="`), strconv.Itoa(l.Shard)...)
	b = append(b, `",cpu="`...)
	b = strconv.AppendInt(b, int64(l.CPU), 10)
	b = append(b, `",node="`...)
	b = strconv.AppendInt(b, int64(l.Node), 10)
	return string(append(b, '"'))
}

// family writes a metric family's HELP and TYPE lines.
func (t *text) family(name, typ, help string) {
	t.b = append(t.b, "# HELP "...)
	t.b = append(t.b, name...)
	t.b = append(t.b, ' ')
	t.b = append(t.b, help...)
	t.b = append(t.b, "\n# TYPE "...)
	t.b = append(t.b, name...)
	t.b = append(t.b, ' ')
	t.b = append(t.b, typ...)
	t.b = append(t.b, '\n')
}

// sample writes one sample: name{labels,extra} value. labels may be
// empty; extra is a list of label names and values.
func (t *text) sample(name, labels string, v float64, extra ...string) {
	t.b = append(t.b, name...)
	if labels != "" || len(extra) > 0 {
		t.b = append(t.b, '{')
		t.b = append(t.b, labels...)
		for i := 0; i+1 < len(extra); i += 2 {
			if i > 0 || labels != "" {
				t.b = append(t.b, ',')
			}
			t.b = append(t.b, extra[i]...)
			t.b = append(t.b, `="`...)
			t.b = append(t.b, extra[i+1]...)
			t.b = append(t.b, '"')
		}
		t.b = append(t.b, '}')
	}
	t.b = append(t.b, ' ')
	t.b = appendValue(t.b, v)
	t.b = append(t.b, '\n')
}

func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// perShard writes one family with one sample per shard.
func (t *text) perShard(s *Scrape, name, typ, help string, value func(*ShardScrape) float64) {
	t.family(name, typ, help)
	for i := range s.Shards {
		t.sample(name, t.prefixes[i], value(&s.Shards[i]))
	}
}

func (t *text) info(s *Scrape) {
	t.family("corekv_shard_info", "gauge", "Where each shard runs: its CPU, core, package and NUMA node; always 1.")
	for i := range s.Shards {
		sh := &s.Shards[i]
		t.sample("corekv_shard_info", t.prefixes[i], 1,
			"core", strconv.Itoa(sh.Core), "package", strconv.Itoa(sh.Package),
			"engine", s.Engine, "pinned", strconv.FormatBool(sh.Pinned))
	}
}

func (t *text) requests(s *Scrape) {
	const name = "corekv_requests_total"
	t.family(name, "counter", "Requests answered, by route, method, status and protocol.")
	for i := range s.Shards {
		c := &s.Shards[i].Counts
		for r := range c.requests {
			for m := range c.requests[r] {
				for st := range c.requests[r][m] {
					for p := range c.requests[r][m][st] {
						if n := c.requests[r][m][st][p]; n > 0 {
							t.sample(name, t.prefixes[i], float64(n), "route", routeNames[r],
								"method", methodNames[m], "status", statusCodes[st], "proto", protoNames[p])
						}
					}
				}
			}
		}
	}
}

func (t *text) latency(s *Scrape) {
	const name = "corekv_request_duration_seconds"
	t.family(name, "histogram", "Time from a request's first byte read to its answer's last byte handed to the kernel.")
	for i := range s.Shards {
		c := &s.Shards[i].Counts
		var cum uint64
		for b := range c.latency {
			cum += c.latency[b]
			le := "+Inf"
			if b < len(Bounds) {
				le = strconv.FormatFloat(Bounds[b].Seconds(), 'g', -1, 64)
			}
			t.sample(name+"_bucket", t.prefixes[i], float64(cum), "le", le)
		}
		t.sample(name+"_sum", t.prefixes[i], float64(c.latencySum)/1e9)
		t.sample(name+"_count", t.prefixes[i], float64(cum))
	}
}

func (t *text) connections(s *Scrape) {
	t.perShard(s, "corekv_connections_open", "gauge", "Client connections open, HTTP/1 and HTTP/2.",
		func(sh *ShardScrape) float64 { return float64(sh.Open) })
	t.perShard(s, "corekv_connections_accepted_total", "counter", "Client connections accepted.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.accepted) })
	const timeouts = "corekv_connections_timeouts_total"
	t.family(timeouts, "counter", "Connections closed on a deadline: idle (--idle-timeout), read (a request unfinished at --read-timeout, answered 408), write (answers left unread past --idle-timeout).")
	for i := range s.Shards {
		for k := range s.Shards[i].Counts.timeouts {
			t.sample(timeouts, t.prefixes[i], float64(s.Shards[i].Counts.timeouts[k]), "timeout", timeoutNames[k])
		}
	}
	const pauses = "corekv_accept_pauses_total"
	t.family(pauses, "counter", "Times the shard stopped accepting: at --max-conns connections (new ones wait in the kernel's accept queue), or out of descriptors.")
	for i := range s.Shards {
		for k := range s.Shards[i].Counts.pauses {
			t.sample(pauses, t.prefixes[i], float64(s.Shards[i].Counts.pauses[k]), "reason", pauseNames[k])
		}
	}
	t.perShard(s, "corekv_requests_in_flight", "gauge", "Requests holding one of the shard's concurrency slots (--concurrency-limit).",
		func(sh *ShardScrape) float64 { return float64(sh.InFlight) })
	t.perShard(s, "corekv_slot_waits_total", "counter", "Requests that found every concurrency slot taken and waited for one.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.slotWaits) })
	t.perShard(s, "corekv_http2_streams_total", "counter", "HTTP/2 streams opened by clients.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.streams + sh.HTTP2.Streams) })
	t.perShard(s, "corekv_http2_resets_total", "counter", "HTTP/2 streams reset by clients (RST_STREAM).",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.resets + sh.HTTP2.Resets) })
	t.perShard(s, "corekv_http2_refused_streams_total", "counter", "HTTP/2 streams refused for going over a limit.",
		func(sh *ShardScrape) float64 { return float64(sh.HTTP2.Refused) })
	t.perShard(s, "corekv_http2_connection_errors_total", "counter", "HTTP/2 connections ended by a connection error (GOAWAY with an error code).",
		func(sh *ShardScrape) float64 { return float64(sh.HTTP2.Errors) })
}

func (t *text) traffic(s *Scrape) {
	t.perShard(s, "corekv_received_bytes_total", "counter", "Bytes read from client connections.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.received) })
	t.perShard(s, "corekv_sent_bytes_total", "counter", "Bytes handed to the kernel for client connections.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.sent) })
}

func (t *text) store(s *Scrape) {
	t.perShard(s, "corekv_store_hits_total", "counter", "GET and HEAD requests that found their key.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.hits) })
	t.perShard(s, "corekv_store_misses_total", "counter", "GET and HEAD requests that did not find their key.",
		func(sh *ShardScrape) float64 { return float64(sh.Counts.misses) })
	st := &s.Store
	t.family("corekv_store_items", "gauge", "Keys stored.")
	t.sample("corekv_store_items", "", float64(st.Items))
	t.family("corekv_store_bytes", "gauge", "Bytes of keys plus values stored.")
	t.sample("corekv_store_bytes", "", float64(st.Bytes))
	if len(st.Memory) > 0 {
		t.family("corekv_store_memory_bytes", "gauge", "Memory the store mapped for its entries, by the NUMA node it was placed for (none: no preference).")
		for _, m := range st.Memory {
			node := "none"
			if m.Node >= 0 {
				node = strconv.Itoa(m.Node)
			}
			t.sample("corekv_store_memory_bytes", "", float64(m.Bytes), "node", node)
		}
	}
	t.family("corekv_store_evictions_total", "counter", "Entries removed to make room for new ones.")
	t.sample("corekv_store_evictions_total", "", float64(st.Evictions))
	t.family("corekv_store_expirations_total", "counter", "Entries removed because their time to live ran out.")
	t.sample("corekv_store_expirations_total", "", float64(st.Expirations))
}
