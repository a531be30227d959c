package loadgen

import (
	"context"
	"runtime"
	"time"

	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// runH1 runs a step over HTTP/1.1 from one event loop.
func runH1(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l, err := newH1Loop(ctx, cfg, w, seed<<20)
	if err != nil {
		return nil, err
	}
	defer l.close()
	start := startTime(cfg)
	if step.Rate > 0 {
		plan := schedule.Plan{Start: start, Rate: step.Rate, Duration: step.Duration, Lanes: len(l.conns)}
		l.runOpen(ctx, plan, start.Add(step.Duration+cfg.Timeout))
	} else {
		time.Sleep(time.Until(start))
		l.runClosed(ctx, start.Add(step.Duration), nil)
	}
	res := merge(step, start, l.recorders())
	if !cfg.Block {
		res.Busy = l.busy
	}
	return res, nil
}

// preloadH1 writes every key once over HTTP/1.1, closed loop.
func preloadH1(ctx context.Context, cfg Config, w *workload.Workload, end time.Time) ([]*recorder, error) {
	l, err := newH1Loop(ctx, cfg, w, 0)
	if err != nil {
		return nil, err
	}
	defer l.close()
	n := len(l.conns)
	l.runClosed(ctx, end, func(i int) func() (workload.Op, bool) { return preloadKeys(w, i, n, w.Config().Keys) })
	return l.recorders(), nil
}
