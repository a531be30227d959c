package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/bench/internal/workload"
)

// pinnedStartDelay separates the start of the pinned loops, which connect
// in parallel, from their common first intended send.
const pinnedStartDelay = 100 * time.Millisecond

// share is one pinned event loop's part of a step.
type share struct {
	cpu, conns int
	rate       float64
}

// shares deals conns connections over cpus round-robin and splits rate in
// proportion; a CPU left without a connection gets no share.
func shares(cpus []int, conns int, rate float64) []share {
	var out []share
	for k, cpu := range cpus {
		n := conns / len(cpus)
		if k < conns%len(cpus) {
			n++
		}
		if n > 0 {
			out = append(out, share{cpu: cpu, conns: n, rate: rate * float64(n) / float64(conns)})
		}
	}
	return out
}

// runPinned runs step with the connections dealt over cfg.ConnCPUs: one
// event loop per CPU, each on a thread pinned to that CPU (never unpinned:
// the thread ends with its goroutine), so that each connection's packets
// leave from its CPU and, over loopback, its SYN is processed there. The
// loops share one start time and their results are merged.
func runPinned(ctx context.Context, cfg Config, w *workload.Workload, step Step, seed uint64) (*Result, error) {
	parts := shares(cfg.ConnCPUs, cfg.Conns, step.Rate)
	start := time.Now().Add(pinnedStartDelay)
	results := make([]*Result, len(parts))
	errs := make([]error, len(parts))
	done := make(chan struct{})
	for k, p := range parts {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := affinity.Pin([]int{p.cpu}); err != nil {
				errs[k] = fmt.Errorf("pin a load thread to CPU %d: %w", p.cpu, err)
				return
			}
			c := cfg
			c.Conns, c.ConnCPUs, c.start = p.conns, nil, start
			results[k], errs[k] = runOne(ctx, c, w, Step{Rate: p.rate, Duration: step.Duration}, seed<<10+uint64(k))
		}()
	}
	for range parts {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return mergeResults(step, start, results), nil
}

// mergeResults adds up the results of loops that ran step together from
// start.
func mergeResults(step Step, start time.Time, results []*Result) *Result {
	res := &Result{Step: step, Start: start, Lateness: newHist()}
	for k := range res.Latency {
		res.Latency[k] = newHist()
	}
	for _, r := range results {
		for k, h := range r.Latency {
			res.Latency[k].Merge(h)
		}
		res.Lateness.Merge(r.Lateness)
		res.Errors.add(r.Errors)
		res.Completed += r.Completed
		res.Sent += r.Sent
		res.Elapsed = max(res.Elapsed, r.Start.Add(r.Elapsed).Sub(start))
		res.Busy = max(res.Busy, r.Busy) // the busiest loop's: saturated if any is
		if res.FirstError == "" {
			res.FirstError = r.FirstError
		}
	}
	return res
}
