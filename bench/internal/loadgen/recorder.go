package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/corekv/corekv/bench/internal/workload"
)

// recorder accumulates one goroutine's outcomes; merge adds them up.
type recorder struct {
	w        *workload.Workload
	latency  [workload.NumKinds]*hdrhistogram.Histogram
	late     *hdrhistogram.Histogram
	errs     Errors
	done     int64
	sent     int64
	last     time.Time
	firstErr string
}

func newRecorder(w *workload.Workload) *recorder {
	r := &recorder{w: w}
	for k := range r.latency {
		r.latency[k] = newHist()
	}
	r.late = newHist()
	return r
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	_ = h.RecordValue(min(max(int64(d), 1), maxLatency)) // clamped: cannot fail
}

// lateBy records a send lateness.
func (r *recorder) lateBy(d time.Duration) { record(r.late, d) }

// answer classifies the server's answer to op, updates the ledger for a
// write, and times it if it is correct.
func (r *recorder) answer(op workload.Op, status int, body []byte, latency time.Duration, now time.Time) {
	ok2xx := status >= 200 && status < 300
	var bad *int64
	switch {
	case op.Kind == workload.Store:
		r.w.Ledger().Done(op, ok2xx, !ok2xx)
		if !ok2xx {
			bad = &r.errs.Status
		}
	case status == 200:
		if err := r.w.Check(op, body); err != nil {
			r.fail(&r.errs.Wrong, err)
			return
		}
	case status == 404:
		bad = &r.errs.Missing
	default:
		bad = &r.errs.Status
	}
	if bad != nil {
		r.fail(bad, fmt.Errorf("%s %q: status %d", op.Kind, workload.KeyName(op.Key), status))
		return
	}
	record(r.latency[op.Kind], latency)
	r.done++
	if now.After(r.last) {
		r.last = now
	}
}

// lost records a request that got no answer because of err.
func (r *recorder) lost(op workload.Op, err error) {
	if op.Kind == workload.Store {
		r.w.Ledger().Done(op, false, false) // the server may or may not hold it
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		r.fail(&r.errs.Timeout, err)
		return
	}
	r.fail(&r.errs.IO, err)
}

func (r *recorder) fail(counter *int64, err error) {
	*counter++
	if r.firstErr == "" {
		r.firstErr = err.Error()
	}
}

// merge adds the recorders' counts into a Result.
func merge(step Step, start time.Time, recs []*recorder) *Result {
	res := &Result{Step: step, Start: start, Lateness: newHist()}
	for k := range res.Latency {
		res.Latency[k] = newHist()
	}
	last := start
	for _, r := range recs {
		for k, h := range r.latency {
			res.Latency[k].Merge(h)
		}
		res.Lateness.Merge(r.late)
		res.Errors.add(r.errs)
		res.Completed += r.done
		res.Sent += r.sent
		if r.last.After(last) {
			last = r.last
		}
		if res.FirstError == "" {
			res.FirstError = r.firstErr
		}
	}
	res.Elapsed = last.Sub(start)
	return res
}
