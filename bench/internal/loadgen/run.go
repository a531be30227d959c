package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/corekv/corekv/bench/internal/schedule"
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
// HTTP/1.1 runs on one goroutine blocked in epoll_wait (Linux only); h2c
// runs a goroutine per stream and paces from one goroutine that sleeps
// in nanosleep (see schedule.Wall). Either way, keep GOMAXPROCS at least
// 2.
func Run(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if step.Duration <= 0 {
		return nil, fmt.Errorf("step duration %v: want above 0", step.Duration)
	}
	var res *Result
	var err error
	if cfg.Proto == H2C {
		res, err = runH2C(ctx, cfg, w, step, seed)
	} else {
		res, err = runH1(ctx, cfg, w, step, seed)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s over %s: %w", cfg.Addr, cfg.Proto, err)
	}
	return res, nil
}

// Preload writes every key of w once (its next version), closed loop over
// cfg.Conns connections with up to 64 requests in flight on each, and
// fails unless every write was acknowledged.
func Preload(ctx context.Context, cfg Config, w *workload.Workload) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	cfg.Pipeline = max(cfg.Pipeline, 64)
	end := time.Now().Add(time.Hour) // the keys run out first
	var recs []*recorder
	var err error
	if cfg.Proto == H2C {
		recs, err = preloadH2C(ctx, cfg, w, end)
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

// runH2C runs a step over h2c.
func runH2C(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	lanes, err := dialH2CLanes(ctx, cfg, w, seed)
	if err != nil {
		return nil, err
	}
	defer closeAll(lanes)
	start := time.Now().Add(startDelay)
	if step.Rate > 0 {
		plan := schedule.Plan{Start: start, Rate: step.Rate, Duration: step.Duration, Lanes: len(lanes)}
		for _, l := range lanes {
			l.start(ctx, start.Add(step.Duration+cfg.Timeout))
		}
		_ = schedule.Run(ctx, plan, schedule.Wall{}, maxBatch, func(i int, batch []schedule.Due) {
			lanes[i].send(batch)
		})
		for _, l := range lanes {
			l.finish()
		}
	} else {
		time.Sleep(time.Until(start))
		var wg sync.WaitGroup
		for _, l := range lanes {
			wg.Go(func() { l.closed(ctx, start.Add(step.Duration), nil) })
		}
		wg.Wait()
	}
	return merge(step, start, h2cRecorders(lanes)), nil
}

// preloadH2C writes every key once over h2c, closed loop.
func preloadH2C(ctx context.Context, cfg Config, w *workload.Workload, end time.Time) ([]*recorder, error) {
	lanes, err := dialH2CLanes(ctx, cfg, w, 0)
	if err != nil {
		return nil, err
	}
	defer closeAll(lanes)
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Go(func() { l.closed(ctx, end, preloadKeys(w, i, len(lanes), w.Config().Keys)) })
	}
	wg.Wait()
	return h2cRecorders(lanes), nil
}

func dialH2CLanes(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) ([]*h2cLane, error) {
	var lanes []*h2cLane
	for i := range cfg.Conns {
		l, err := dialH2C(ctx, cfg, w, seed<<20+uint64(i*cfg.Streams))
		if err != nil {
			closeAll(lanes)
			return nil, err
		}
		lanes = append(lanes, l)
	}
	return lanes, nil
}

func closeAll(lanes []*h2cLane) {
	for _, l := range lanes {
		l.close()
	}
}

func h2cRecorders(lanes []*h2cLane) []*recorder {
	var recs []*recorder
	for _, l := range lanes {
		recs = append(recs, l.recorders()...)
	}
	return recs
}
