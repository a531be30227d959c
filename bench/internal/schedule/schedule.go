// Package schedule paces an open-loop load generator: every request has an
// intended send time fixed in advance by the target rate, whatever happened
// to the requests before it, so that latency measured from that time
// counts the waiting a stalled server or client caused (coordinated
// omission, in Gil Tene's words, is measuring from the actual send and
// hiding it).
package schedule

import "time"

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

// Due is one request handed to Pacer.Fire's send function.
type Due struct {
	Index    int           // the request's number within its lane
	Intended time.Time     // when the plan wanted it sent
	Late     time.Duration // how long after Intended it was handed out
}

// Pacer walks a Plan for an event loop of the caller's: Fire hands out
// the requests due, and says when to call it again.
type Pacer struct {
	p        Plan
	g, total int
	maxBatch int
	batches  [][]Due
}

// NewPacer returns a Pacer over p that hands each lane at most maxBatch
// requests at a time.
func NewPacer(p Plan, maxBatch int) *Pacer {
	return &Pacer{p: p, total: p.Total(), maxBatch: max(maxBatch, 1), batches: make([][]Due, p.lanes())}
}

// Fire gathers the requests due by now, at most maxBatch per lane, and
// calls send once per lane that has some, lanes in order, each batch in
// order, with Late set to how long after its intended time each was
// handed out. It returns when the next request is due (maybe already:
// call again) and false when none is left. send must not keep the slice.
func (pc *Pacer) Fire(now time.Time, send func(lane int, batch []Due)) (next time.Time, more bool) {
	lanes := len(pc.batches)
	for full := false; pc.g < pc.total && !full; pc.g++ {
		at := pc.p.Start.Add(pc.p.due(pc.g))
		if at.After(now) {
			break
		}
		lane := pc.g % lanes
		pc.batches[lane] = append(pc.batches[lane], Due{Index: pc.g / lanes, Intended: at, Late: now.Sub(at)})
		full = len(pc.batches[lane]) == pc.maxBatch
	}
	for lane, b := range pc.batches {
		if len(b) > 0 {
			send(lane, b)
			pc.batches[lane] = b[:0]
		}
	}
	if pc.g >= pc.total {
		return time.Time{}, false
	}
	return pc.p.Start.Add(pc.p.due(pc.g)), true
}
