package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// startDelay separates connecting from the first intended send, so that
// no lane starts late.
const startDelay = 20 * time.Millisecond

// maxBatch bounds the requests an HTTP/1.1 connection writes at once when
// it catches up.
const maxBatch = 256

// Run runs one step against the server: it connects cfg.Conns fresh
// connections, sends w's operations (open loop when step.Rate > 0, closed
// loop otherwise) for step.Duration, waits for the answers, and closes the
// connections. In open loop one goroutine paces every connection's sends
// (schedule.Run), and sleeps in a system call between them (see
// schedule.Wall): keep GOMAXPROCS at least 2. Generators are seeded from seed, so equal seeds draw equal
// operations. Failed requests are counted in the Result; Run itself fails
// only when it cannot connect.
func Run(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if step.Duration <= 0 {
		return nil, fmt.Errorf("step duration %v: want above 0", step.Duration)
	}
	lanes, err := connect(ctx, cfg, w, seed)
	if err != nil {
		return nil, err
	}
	defer closeAll(lanes)
	start := cfg.Clock.Now().Add(startDelay)
	if step.Rate > 0 {
		plan := schedule.Plan{Start: start, Rate: step.Rate, Duration: step.Duration, Lanes: len(lanes)}
		deadline := start.Add(step.Duration + cfg.Timeout)
		for _, l := range lanes {
			l.start(ctx, deadline)
		}
		_ = schedule.Run(ctx, plan, cfg.Clock, maxBatch, func(i int, batch []schedule.Due) error {
			lanes[i].send(batch)
			return nil
		})
		for _, l := range lanes {
			l.finish()
		}
	} else {
		cfg.Clock.Sleep(start.Sub(cfg.Clock.Now()))
		var wg sync.WaitGroup
		for _, l := range lanes {
			wg.Go(func() { l.closed(ctx, start.Add(step.Duration), nil) })
		}
		wg.Wait()
	}
	var recs []*recorder
	for _, l := range lanes {
		recs = append(recs, l.recorders()...)
	}
	return merge(step, start, recs), nil
}

// Preload writes every key of w once (its next version), closed loop over
// cfg.Conns connections with up to 64 requests in flight on each, and
// fails unless every write was acknowledged.
func Preload(ctx context.Context, cfg Config, w *workload.Workload) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	cfg.Pipeline = max(cfg.Pipeline, 64)
	lanes, err := connect(ctx, cfg, w, 0)
	if err != nil {
		return err
	}
	defer closeAll(lanes)
	keys := w.Config().Keys
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Go(func() { l.closed(ctx, cfg.Clock.Now().Add(time.Hour), preloadKeys(w, i, len(lanes), keys)) })
	}
	wg.Wait()
	var recs []*recorder
	for _, l := range lanes {
		recs = append(recs, l.recorders()...)
	}
	res := merge(Step{}, cfg.Clock.Now(), recs)
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

// lane is one connection's load: an HTTP/1.1 connection or an h2c
// connection with its streams. In open loop one pacer goroutine calls
// send for every lane, between start and finish.
type lane interface {
	// start gets the lane ready to send until deadline (and to give up
	// on answers after it).
	start(ctx context.Context, deadline time.Time)
	// send sends the requests now due on the lane.
	send(batch []schedule.Due)
	// finish waits until every request sent is answered or given up.
	finish()
	// closed sends until end; next, when set, replaces the generator and
	// ends the lane when it runs dry.
	closed(ctx context.Context, end time.Time, next func() (workload.Op, bool))
	recorders() []*recorder
	close()
}

func connect(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) ([]lane, error) {
	var lanes []lane
	for i := range cfg.Conns {
		var l lane
		var err error
		switch cfg.Proto {
		case H2C:
			l, err = dialH2C(ctx, cfg, w, seed<<20+uint64(i*cfg.Streams))
		default:
			l, err = dialH1(ctx, cfg, w, seed<<20+uint64(i))
		}
		if err != nil {
			closeAll(lanes)
			return nil, fmt.Errorf("connect to %s over %s: %w", cfg.Addr, cfg.Proto, err)
		}
		lanes = append(lanes, l)
	}
	return lanes, nil
}

func closeAll(lanes []lane) {
	for _, l := range lanes {
		l.close()
	}
}
