// Package schedule paces an open-loop load generator: every request has an
// intended send time fixed in advance by the target rate, whatever happened
// to the requests before it, so that latency measured from that time
// counts the waiting a stalled server or client caused (coordinated
// omission, in Gil Tene's words, is measuring from the actual send and
// hiding it).
package schedule

import (
	"context"
	"time"
)

// Clock is the time source Run paces by; tests inject a fake one.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

// Wall is the real clock. Its Sleep is precise to the kernel's wake-up
// latency (tens of microseconds) where time.Sleep is not: the Go runtime
// waits for timers in epoll_wait, whose timeout counts whole
// milliseconds, so time.Sleep(50µs) on an idle process sleeps about 1ms.
// Wall.Sleep sleeps in the nanosleep system call instead (on Linux), which
// holds the goroutine's P meanwhile: give the runtime a spare P
// (GOMAXPROCS above the number of goroutines that must keep running).
type Wall struct{}

// Now returns time.Now().
func (Wall) Now() time.Time { return time.Now() }

// Sleep sleeps for d.
func (Wall) Sleep(d time.Duration) { sleepImpl(d) }

// Plan fixes the intended send time of every request of a constant-rate
// run: request g (counting from 0 over all lanes) is due at
// Start + g/Rate, and the run holds every request due before
// Start + Duration. Lane l of Lanes sends requests l, l+Lanes, l+2·Lanes….
type Plan struct {
	Start    time.Time
	Rate     float64       // requests per second over all lanes, above 0
	Duration time.Duration // length of the run
	Lanes    int           // connections or streams sharing the rate; default 1
}

func (p Plan) lanes() int {
	return max(p.Lanes, 1)
}

// Total returns the number of requests in the run over all lanes.
func (p Plan) Total() int {
	if p.Rate <= 0 || p.Duration <= 0 {
		return 0
	}
	n := int(p.Duration.Seconds() * p.Rate)
	for p.due(n) < p.Duration { // round up: request n is due before the end
		n++
	}
	for n > 0 && p.due(n-1) >= p.Duration {
		n--
	}
	return n
}

// Count returns the number of requests lane sends.
func (p Plan) Count(lane int) int {
	total, lanes := p.Total(), p.lanes()
	if lane >= total {
		return 0
	}
	return (total-lane-1)/lanes + 1
}

// At returns the intended send time of lane's i-th request.
func (p Plan) At(lane, i int) time.Time {
	return p.Start.Add(p.due(i*p.lanes() + lane))
}

// due returns the offset from Start of request g.
func (p Plan) due(g int) time.Duration {
	return time.Duration(float64(g) * float64(time.Second) / p.Rate)
}

// Due is one request handed to Run's send function.
type Due struct {
	Index    int           // the request's number within its lane
	Intended time.Time     // when the plan wanted it sent
	Late     time.Duration // how long after Intended it was handed out
}

// Run hands every request of the plan to send as it falls due, from one
// goroutine, until all are sent or ctx is done. Each wake-up gathers the
// requests due by then, at most maxBatch per lane, and calls send once
// per lane that has some, lanes in order, each batch in order. A pacer
// that fell behind thus catches up in batches while every request keeps
// its intended time; Late records by how much it fell behind. Between
// requests Run sleeps on c. It returns ctx's error or the first error from
// send. send must not keep the slice.
func Run(ctx context.Context, p Plan, c Clock, maxBatch int, send func(lane int, batch []Due) error) error {
	total, lanes := p.Total(), p.lanes()
	maxBatch = max(maxBatch, 1)
	batches := make([][]Due, lanes)
	for g := 0; g < total; {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := c.Now()
		if next := p.Start.Add(p.due(g)); next.After(now) {
			c.Sleep(next.Sub(now))
			continue
		}
		full := false
		for ; g < total && !full; g++ {
			at := p.Start.Add(p.due(g))
			if at.After(now) {
				break
			}
			lane := g % lanes
			batches[lane] = append(batches[lane], Due{Index: g / lanes, Intended: at, Late: now.Sub(at)})
			full = len(batches[lane]) == maxBatch
		}
		for lane, b := range batches {
			if len(b) == 0 {
				continue
			}
			if err := send(lane, b); err != nil {
				return err
			}
			batches[lane] = b[:0]
		}
	}
	return nil
}
