package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/corekv/corekv/bench/internal/peers"
	"github.com/corekv/corekv/bench/internal/zipf"
)

type hitratioCmd struct {
	Alphas   []float64 `default:"0.99,0.8" help:"Zipf exponents of the key streams (any above 0): key i is drawn with probability proportional to 1/(i+1)^alpha."`
	Keys     int       `default:"1000000" help:"Distinct keys: the working set."`
	MinValue int       `default:"100" help:"Smallest value in bytes; each key's value size lies between --min-value and --max-value, from a hash of the key."`
	MaxValue int       `default:"1000" help:"Largest value in bytes (at most 1 MiB)."`
	Requests int       `default:"2000000" help:"Requests per stream, warm-up included."`
	Warmup   int       `default:"500000" help:"Requests at the start of each stream that warm the cache and are not counted."`
	Share    float64   `default:"0.1" help:"Memory budget of every server, as a share of the working set's bytes of keys plus values."`
	Batch    int       `default:"100" help:"Most GETs per pipelined write; a batch also ends before a key that is already in it."`
	Seed     uint64    `default:"1" help:"Seed of the key streams; every server replays the same stream."`
}

func (h *hitratioCmd) Validate() error {
	for _, a := range h.Alphas {
		if !(a > 0) || math.IsInf(a, 0) {
			return fmt.Errorf("--alphas: %v: want finite numbers above 0", a)
		}
	}
	switch {
	case h.Keys < 1:
		return fmt.Errorf("--keys %d: want at least 1", h.Keys)
	case h.MinValue < 1 || h.MaxValue < h.MinValue || h.MaxValue > 1<<20:
		return fmt.Errorf("--min-value %d, --max-value %d: want 1 <= min <= max <= 1048576", h.MinValue, h.MaxValue)
	case h.Requests < 1 || h.Warmup < 0 || h.Warmup >= h.Requests:
		return fmt.Errorf("--requests %d, --warmup %d: want 0 <= warmup < requests", h.Requests, h.Warmup)
	case !(h.Share > 0) || h.Share > 1:
		return fmt.Errorf("--share %v: want above 0, at most 1", h.Share)
	case h.Batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", h.Batch)
	}
	return nil
}

// hrResult is one server's figures for one stream.
type hrResult struct {
	alpha  float64
	server string
	how    string
	// Over the counted requests (after the warm-up):
	counted   int
	hits      int
	sets      int      // SETs after a miss
	notStored int      // of those, refused (memcached out of memory, Redis -OOM, corekv 507)
	end       counters // the server's own account at the end
	mem       peers.Memory
	took      time.Duration
}

func (r hrResult) ratio() float64 { return float64(r.hits) / float64(r.counted) }

// Run replays every stream against every server and prints the results.
func (h *hitratioCmd) Run(e *env) error {
	set, b, rs, err := h.collect(e)
	if err != nil {
		return err
	}
	return h.write(e, set, b, rs)
}

// collect replays every stream against every server, each on a fresh
// server, and returns the working set's bytes and the budget with the
// results.
func (h *hitratioCmd) collect(e *env) (int64, budget, []hrResult, error) {
	ds := newDataset(spreadSize(h.MinValue, h.MaxValue))
	set := ds.bytes(h.Keys)
	b := budget{bytes: int64(math.Round(h.Share * float64(set)))}
	var results []hrResult
	for _, a := range h.Alphas {
		for _, name := range e.Servers {
			e.logf("hitratio: zipf %v on %s, budget %d B", a, name, b.bytes)
			r, err := h.measure(e, ds, b, a, name)
			if err != nil {
				return 0, b, nil, fmt.Errorf("zipf %v on %s: %w", a, name, err)
			}
			results = append(results, r)
		}
	}
	return set, b, results, nil
}

// measure starts a fresh server at budget b and replays the stream.
func (h *hitratioCmd) measure(e *env, ds *dataset, b budget, alpha float64, name string) (hrResult, error) {
	z, err := zipf.New(rand.New(rand.NewPCG(h.Seed, math.Float64bits(alpha))), alpha, h.Keys)
	if err != nil {
		return hrResult{}, err
	}
	srv, err := e.launch(e.ctx, name, b)
	if err != nil {
		return hrResult{}, err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			e.logf("warning: stopping %s: %v", name, err)
		}
	}()
	conn, err := srv.dial(e.ctx)
	if err != nil {
		return hrResult{}, err
	}
	defer conn.Close()
	r := hrResult{alpha: alpha, server: name, how: srv.how}
	start := time.Now()
	if err := h.replay(conn, ds, z, &r); err != nil {
		return r, err
	}
	r.took = time.Since(start)
	if r.end, err = srv.counters(e.ctx); err != nil {
		return r, err
	}
	r.mem, err = srv.Memory()
	return r, err
}
