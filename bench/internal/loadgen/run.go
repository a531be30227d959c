package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/corekv/corekv/bench/internal/workload"
)

// startDelay separates connecting from the first intended send, so that
// no connection starts late.
const startDelay = 20 * time.Millisecond

// maxBatch bounds the requests a connection is handed at once when the
// pacer catches up.
const maxBatch = 256

// errServerClosed is the error for requests left when the server said
// Connection: close.
var errServerClosed = errors.New("server closed the connection")

// Run runs one step against the server: it connects cfg.Conns fresh
// connections, sends w's operations (open loop when step.Rate > 0, closed
// loop otherwise) for step.Duration, waits for the answers, and closes the
// connections. Generators are seeded from seed, so equal seeds draw equal
// operations. Failed requests are counted in the Result; Run itself fails
// only when it cannot connect.
//
// Either protocol runs on one goroutine that polls its connections
// through epoll (Linux only).
func Run(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if step.Duration <= 0 {
		return nil, fmt.Errorf("step duration %v: want above 0", step.Duration)
	}
	if len(cfg.ConnCPUs) > 0 {
		return runPinned(ctx, cfg, w, step, seed)
	}
	return runOne(ctx, cfg, w, step, seed)
}

// runOne runs a step from one event loop on the calling thread.
func runOne(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	var res *Result
	var err error
	if cfg.Proto == H2C {
		res, err = runH2(ctx, cfg, w, step, seed)
	} else {
		res, err = runH1(ctx, cfg, w, step, seed)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s over %s: %w", cfg.Addr, cfg.Proto, err)
	}
	return res, nil
}

// startTime returns the first intended send of a step: cfg.start if set,
// else startDelay from now.
func startTime(cfg Config) time.Time {
	if !cfg.start.IsZero() {
		return cfg.start
	}
	return time.Now().Add(startDelay)
}

// Preload writes every key of w once (its next version), closed loop over
// cfg.Conns connections with up to 64 requests in flight on each (h2c: as
// many as the server allows, up to 64), and fails unless every write was
// acknowledged.
func Preload(ctx context.Context, cfg Config, w *workload.Workload) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	cfg.Pipeline = max(cfg.Pipeline, 64)
	cfg.Streams = max(cfg.Streams, 64)
	end := time.Now().Add(time.Hour) // the keys run out first
	var recs []*recorder
	var err error
	if cfg.Proto == H2C {
		recs, err = preloadH2(ctx, cfg, w, end)
	} else {
		recs, err = preloadH1(ctx, cfg, w, end)
	}
	if err != nil {
		return fmt.Errorf("connect to %s over %s: %w", cfg.Addr, cfg.Proto, err)
	}
	keys := w.Config().Keys
	res := merge(Step{}, time.Now(), recs)
	if n := res.Errors.Total(); n > 0 || res.Completed != int64(keys) {
		return fmt.Errorf("preload of %d keys: %d stored, %d failed: %s", keys, res.Completed, n, res.FirstError)
	}
	return nil
}

// preloadKeys returns an operation source that writes keys lane,
// lane+lanes, … of keys, safe to share among the lane's streams.
func preloadKeys(w *workload.Workload, lane, lanes, keys int) func() (workload.Op, bool) {
	var mu sync.Mutex
	next := lane
	return func() (workload.Op, bool) {
		mu.Lock()
		defer mu.Unlock()
		for next < keys {
			key := next
			next += lanes
			if op, ok := w.Ledger().Preload(key); ok {
				return op, true
			}
		}
		return workload.Op{}, false
	}
}
