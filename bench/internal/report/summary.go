package report

import (
	"slices"

	"golang.org/x/perf/benchmath"
)

// metric is a figure summed up across rounds.
type metric struct {
	Name  string // as in JSON and CSV
	Title string // as in the table
	// Better is +1 when higher is better, -1 when lower is, 0 when
	// neither (a load figure).
	Better int
	Value  func(Measurement) float64
	// Percent shows the value, a fraction, as a percentage.
	Percent bool
	// Optional leaves out zero values: not measured.
	Optional bool
}

// metrics are the figures the summary compares.
var metrics = []metric{
	{"throughput", "req/s", +1, func(m Measurement) float64 { return m.Throughput }, false, false},
	{"p50", "p50 µs", -1, func(m Measurement) float64 { return m.Latency.P50 }, false, false},
	{"p99", "p99 µs", -1, func(m Measurement) float64 { return m.Latency.P99 }, false, false},
	{"p999", "p99.9 µs", -1, func(m Measurement) float64 { return m.Latency.P999 }, false, false},
	{"cpu_per_req", "srv CPU µs/req", -1, func(m Measurement) float64 { return m.ServerCPUPerReq }, false, false},
	{"server_util", "srv CPU", 0, func(m Measurement) float64 { return m.ServerUtil }, true, false},
	{"client_util", "client busy", 0, func(m Measurement) float64 { return m.ClientUtil }, true, false},
	{"loop_share", "loop CPU", 0, func(m Measurement) float64 { return m.LoopShare }, true, true},
}

// Summary sums up one step of one configuration across its rounds.
type Summary struct {
	Step   int             `json:"step"`
	Config int             `json:"config"`
	Stats  map[string]Stat `json:"stats"` // by metric.Name
	// Statuses counts rounds by status.
	Statuses map[Status]int `json:"statuses"`
	// Errors counts failed requests over all rounds.
	Errors int64 `json:"errors"`
}

// Stat is one metric across rounds, and its comparison with the first
// configuration's.
type Stat struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Ratio is Median over the first configuration's median (1 for the
	// first configuration itself, 0 when that median is 0).
	Ratio float64 `json:"ratio"`
	// P is the p-value of a Mann-Whitney U test of this configuration's
	// rounds against the first's; Significant reports P < 0.05. A test
	// over 5 rounds each can reach p = 0.008; with fewer than 4 rounds
	// each no difference can be significant.
	P           float64 `json:"p"`
	Significant bool    `json:"significant"`
}

// Summarize fills r.Summary from r.Rounds, comparing every configuration
// with the first. Rounds whose step was client-bound or client-stalled
// are left out of that step's figures (but still counted in Statuses).
func (r *Report) Summarize() {
	r.Summary = nil
	for step := range r.Steps {
		var base map[string][]float64
		for cfg := range r.Configs {
			vals, s := r.collect(step, cfg)
			if cfg == 0 {
				base = vals
			}
			s.Stats = map[string]Stat{}
			for _, m := range metrics {
				s.Stats[m.Name] = stat(vals[m.Name], base[m.Name])
			}
			r.Summary = append(r.Summary, s)
		}
	}
}

// collect gathers one step of one configuration's values by metric.
func (r *Report) collect(step, cfg int) (map[string][]float64, Summary) {
	s := Summary{Step: step, Config: cfg, Statuses: map[Status]int{}}
	vals := map[string][]float64{}
	for _, rd := range r.Rounds {
		if rd.Config != cfg {
			continue
		}
		for _, m := range rd.Measurements {
			if m.Step != step {
				continue
			}
			s.Statuses[m.Status]++
			s.Errors += m.Errors.Total()
			if !m.Status.ServerResult() {
				continue
			}
			for _, metric := range metrics {
				if v := metric.Value(m); v != 0 || !metric.Optional {
					vals[metric.Name] = append(vals[metric.Name], v)
				}
			}
		}
	}
	return vals, s
}

// stat sums up vals and compares them with base.
func stat(vals, base []float64) Stat {
	if len(vals) == 0 {
		return Stat{}
	}
	s := Stat{N: len(vals), Median: median(vals), Min: slices.Min(vals), Max: slices.Max(vals), Ratio: 1, P: 1}
	if len(base) == 0 {
		s.Ratio = 0
		return s
	}
	if bm := median(base); bm != 0 {
		s.Ratio = s.Median / bm
	} else {
		s.Ratio = 0
	}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(base, &benchmath.DefaultThresholds),
		benchmath.NewSample(vals, &benchmath.DefaultThresholds))
	s.P = c.P
	s.Significant = c.P < c.Alpha
	return s
}

// median returns the median of vals, which must not be empty.
func median(vals []float64) float64 {
	v := slices.Clone(vals)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Lookup returns the summary of step and cfg.
func (r *Report) Lookup(step, cfg int) (Summary, bool) {
	for _, s := range r.Summary {
		if s.Step == step && s.Config == cfg {
			return s, true
		}
	}
	return Summary{}, false
}
