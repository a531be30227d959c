package shard

import (
	"encoding/json"
	"io"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/store"
)

// counters are one shard's connection counts, which bound accepting at
// MaxConns: written by the event loop and by the goroutines of its HTTP/2
// connections. What is counted only to be reported is in shard.m.
type counters struct {
	open atomic.Int64
	// epollErrors counts failed epoll_ctl calls: each closed a connection
	// or left the listener to be armed again.
	epollErrors atomic.Uint64
	_           [cacheLine - 2*8]byte // keep shards' counters on separate cache lines
}

// cacheLine is the size of a CPU cache line on amd64 and arm64, in bytes.
const cacheLine = 64

// The counters fill exactly one cache line: a compile-time check.
var _ = [1]struct{}{}[unsafe.Sizeof(counters{})-cacheLine]

// ShardStats is one shard's entry in the /stats document.
type ShardStats struct {
	Shard    int    `json:"shard"`
	CPU      int    `json:"cpu"`
	Core     int    `json:"core"`
	Package  int    `json:"package"`
	Node     int    `json:"node"`
	Pinned   bool   `json:"pinned"`
	TID      int    `json:"tid"`
	Accepted uint64 `json:"accepted"`
	Open     int64  `json:"open"`
	Requests uint64 `json:"requests"`
	InFlight int    `json:"in_flight"`
	// EpollErrors counts failed epoll_ctl calls (loop engine): each closed
	// its connection.
	EpollErrors uint64 `json:"epoll_errors"`
	// HTTP/2 on the loop engine: streams opened, streams the peer reset,
	// streams refused (over MAX_CONCURRENT_STREAMS), connections ended by
	// a connection error.
	H2Streams uint64 `json:"h2_streams"`
	H2Resets  uint64 `json:"h2_resets"`
	H2Refused uint64 `json:"h2_refused"`
	H2Errors  uint64 `json:"h2_errors"`
}

// Stats is the /stats document.
type Stats struct {
	Engine     string `json:"engine"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Keys       int    `json:"keys"`
	Bytes      int64  `json:"bytes"`
	// Store is the store's own account: items, bytes, memory by NUMA
	// node, evictions, expirations, hits and misses.
	Store store.Stats `json:"store"`
	// ResidentByNode is the store's memory resident on each NUMA node by
	// the kernel's account, page by page: where interleaved segments
	// really are, which Store.BytesByNode (the node each segment was
	// mapped for) does not say. Only with Config.ResidentByNode; an
	// error from it goes to ResidentError instead.
	ResidentByNode map[int]int64 `json:"resident_by_node,omitempty"`
	ResidentError  string        `json:"resident_error,omitempty"`
	Shards         []ShardStats  `json:"shards"`
}

// Stats returns a snapshot of the group's counters.
func (g *Group) Stats() Stats {
	st := Stats{
		Engine:     g.cfg.Engine,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Store:      g.cfg.Store.Stats(),
	}
	st.Keys, st.Bytes = int(st.Store.Items), st.Store.Bytes
	if g.cfg.ResidentByNode != nil {
		var err error
		if st.ResidentByNode, err = g.cfg.ResidentByNode(); err != nil {
			st.ResidentError = err.Error()
		}
	}
	for _, s := range g.shards {
		st.Shards = append(st.Shards, s.stats())
	}
	return st
}

// Scrape returns what /metrics exposes: each shard's counts, summed from
// what its loop and its goroutines counted, and the store's figures.
func (g *Group) Scrape() *metrics.Scrape {
	sc := &metrics.Scrape{Engine: g.cfg.Engine, Store: scrapeStore(g.cfg.Store.Stats())}
	for _, s := range g.shards {
		p := s.plan
		sc.Shards = append(sc.Shards, metrics.ShardScrape{
			Labels:   metrics.Labels{Shard: p.Shard, CPU: p.CPU, Core: p.Core, Package: p.Package, Node: p.Node},
			Counts:   s.m.Snapshot(),
			Open:     s.count.open.Load(),
			InFlight: s.sem.inUse(),
			Pinned:   s.pinned.Load(),
			HTTP2:    s.scrapeH2(),
		})
	}
	return sc
}

// scrapeH2 returns the figures of the shard's HTTP/2 server on its loop.
func (s *shard) scrapeH2() metrics.H2Counts {
	h := s.h2srv.Load()
	if h == nil {
		return metrics.H2Counts{}
	}
	st := h.Stats()
	return metrics.H2Counts{Streams: st.Streams, Resets: st.Resets, Refused: st.Refused, Errors: st.Errors}
}

// scrapeStore returns what /metrics exposes of the store.
func scrapeStore(st store.Stats) metrics.Store {
	ms := metrics.Store{
		Items: st.Items, Bytes: st.Bytes,
		Evictions: uint64(max(st.Evictions, 0)), Expirations: uint64(max(st.Expirations, 0)),
	}
	for i, n := range st.BytesByNode { // index 0: no node; i+1: node i
		ms.Memory = append(ms.Memory, metrics.NodeBytes{Node: i - 1, Bytes: n})
	}
	return ms
}

// WriteStats writes the /stats document as JSON.
func (g *Group) WriteStats(w io.Writer) error {
	return json.NewEncoder(w).Encode(g.Stats())
}

func (s *shard) stats() ShardStats {
	c := s.m.Snapshot()
	st := ShardStats{
		Shard:       s.plan.Shard,
		CPU:         s.plan.CPU,
		Core:        s.plan.Core,
		Package:     s.plan.Package,
		Node:        s.plan.Node,
		Pinned:      s.pinned.Load(),
		TID:         int(s.tid.Load()),
		Accepted:    c.Accepts(),
		Open:        s.count.open.Load(),
		Requests:    c.Requests(),
		InFlight:    s.sem.inUse(),
		EpollErrors: s.count.epollErrors.Load(),
	}
	if h := s.h2srv.Load(); h != nil {
		h2 := h.Stats()
		st.H2Streams, st.H2Resets, st.H2Refused, st.H2Errors = h2.Streams, h2.Resets, h2.Refused, h2.Errors
	}
	return st
}
