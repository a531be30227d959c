// Package suite runs a whole comparison: for every round, for every
// configuration in turn (A B A B …), a fresh server, a preload, a warm-up
// and the timed steps, each measured with the server's and the client's
// CPU time; then it hands the rounds to report.
package suite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/corekv/corekv/bench/internal/loadgen"
	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/bench/internal/workload"
)

// Config describes a run. Its zero value is not runnable: it needs a
// server binary (Bin) or a Target, and at least one Spec.
type Config struct {
	// Bin is the server binary started for every round.
	Bin string
	// Target, instead of Bin, is the host:port of a running server that
	// every round loads; its CPU time is measured only with TargetPid.
	Target    string
	TargetPid int
	// Specs are the configurations compared; the first is the baseline.
	// With Target, their server arguments must be empty.
	Specs []Spec
	// ServerCPUs confines each server with taskset; ClientCPUs are the
	// CPUs the caller confined bench to (recorded, and used for the
	// client's CPU utilization).
	ServerCPUs, ClientCPUs []int
	// Repeat is the number of rounds per configuration. Default 5.
	Repeat int
	// Warmup is the closed-loop run before each round's timed steps.
	// Default 1s.
	Warmup time.Duration
	// Duration is the length of each timed step. Default 1s.
	Duration time.Duration
	// SkipClosed leaves out the closed-loop (maximum throughput) step.
	SkipClosed bool
	// Rates are the open-loop steps in requests per second. Empty means
	// automatic: Fractions of the closed-loop throughput of the first
	// configuration, measured once before the rounds.
	Rates []float64
	// NoOpenLoop leaves out the open-loop steps: Rates is then ignored
	// and nothing is calibrated.
	NoOpenLoop bool
	// Fractions are the automatic rates' fractions of the calibrated
	// throughput. Default 0.1, 0.25, 0.5, 0.75, 0.9, 1: the last finds where the
	// server saturates in open loop.
	Fractions []float64
	// Load and Workload are the load generator's and the workload's
	// settings (Load.Addr is set per round; Load.Proto is the default
	// protocol of Specs that name none).
	Load     loadgen.Config
	Workload workload.Config
	// MaxLateness is the p99 send lateness beyond which an open-loop step
	// counts as fallen behind. Default 1ms.
	MaxLateness time.Duration
	// Seed seeds the generators; equal seeds draw equal operations.
	Seed uint64
	// Command is the command line, recorded in the report.
	Command string
	// ProfileDir, when set, is where each round's CPU profile of its
	// server goes, taken through the server's admin listener over the
	// round's timed steps: <ProfileDir>/<label>-round<N>.pb.gz, listed in
	// the report's Configs[i].Profiles. Not with Target.
	ProfileDir string
	// Progress, when set, is told of each unit of work as it starts.
	Progress func(Progress)
	// Logf, when set, receives notes about the run.
	Logf func(format string, args ...any)
}

// Progress reports where a run is.
type Progress struct {
	Done, Total int    // units of work (warm-ups and steps) finished, and in all
	What        string // the unit starting now
}

func (c Config) withDefaults() Config {
	if c.Repeat == 0 {
		c.Repeat = 5
	}
	if c.Warmup == 0 {
		c.Warmup = time.Second
	}
	if c.Duration == 0 {
		c.Duration = time.Second
	}
	if c.Fractions == nil {
		c.Fractions = []float64{0.1, 0.25, 0.5, 0.75, 0.9, 1}
	}
	if c.MaxLateness == 0 {
		c.MaxLateness = time.Millisecond
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.Progress == nil {
		c.Progress = func(Progress) {}
	}
	for i := range c.Specs {
		if c.Specs[i].Proto == "" {
			c.Specs[i].Proto = c.Load.Proto
		}
		if c.Specs[i].Proto == "" {
			c.Specs[i].Proto = loadgen.H1
		}
	}
	return c
}

// Validate reports what is wrong with c, after defaults, or nil.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if (c.Bin == "") == (c.Target == "") {
		errs = append(errs, errors.New("need exactly one of a server binary and a target"))
	}
	if len(c.Specs) == 0 {
		errs = append(errs, errors.New("no configuration to run"))
	}
	seen := map[string]bool{}
	for _, s := range c.Specs {
		if seen[s.Label] {
			errs = append(errs, fmt.Errorf("configuration label %q used twice", s.Label))
		}
		seen[s.Label] = true
		if c.Target != "" && len(s.Args) > 0 {
			errs = append(errs, fmt.Errorf("configuration %q has server arguments, but bench does not start the target %s", s.Label, c.Target))
		}
	}
	if c.Repeat < 1 {
		errs = append(errs, fmt.Errorf("repeat %d: want at least 1", c.Repeat))
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("duration %v and warm-up %v: want above 0", c.Duration, c.Warmup))
	}
	for _, r := range c.Rates {
		if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			errs = append(errs, fmt.Errorf("rate %v: want above 0 requests/s", r))
		}
	}
	for _, f := range c.Fractions {
		if f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			errs = append(errs, fmt.Errorf("rate fraction %v: want above 0", f))
		}
	}
	if err := c.Load.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Workload.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Run runs the comparison and returns its report, summarized. When ctx is
// cancelled or a round fails, it returns the rounds finished so far (still
// summarized) with the error.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := newReport(cfg)
	steps, err := planSteps(ctx, cfg, r)
	if err != nil {
		return nil, err
	}
	r.Steps = steps
	total := cfg.Repeat * len(cfg.Specs) * (len(steps) + 1)
	done := 0
	var target *workload.Workload // a target keeps its data from round to round
	for round := 1; round <= cfg.Repeat; round++ {
		for i, spec := range cfg.Specs {
			rr := runner{cfg: cfg, spec: spec, steps: steps, round: round, progress: func(what string) {
				cfg.Progress(Progress{Done: done, Total: total, What: fmt.Sprintf("round %d/%d %s: %s", round, cfg.Repeat, spec.Label, what)})
				done++
			}}
			rd, err := rr.run(ctx, &target)
			if err != nil {
				r.Summarize()
				return r, fmt.Errorf("round %d of %q: %w", round, spec.Label, err)
			}
			rd.Config = i
			r.Rounds = append(r.Rounds, *rd)
			if rd.Profile != "" {
				r.Configs[i].Profiles = append(r.Configs[i].Profiles, rd.Profile)
			}
		}
	}
	cfg.Progress(Progress{Done: total, Total: total, What: "done"})
	r.Summarize()
	return r, nil
}

func newReport(cfg Config) *report.Report {
	w := cfg.Workload
	wc, _ := workload.New(w) // validated
	wcfg := wc.Config()
	l := cfg.Load.WithDefaults()
	r := &report.Report{
		Machine: describeMachine(cfg.ServerCPUs, cfg.ClientCPUs),
		Command: cfg.Command,
		Settings: report.Settings{
			Keys: wcfg.Keys, ReadRatio: wcfg.ReadRatio, ValueSize: wcfg.ValueSize, KeyDist: string(wcfg.Dist),
			Connections: l.Conns, Streams: l.Streams, Pipeline: l.Pipeline,
			Repeat: cfg.Repeat, WarmupS: cfg.Warmup.Seconds(), MaxLateness: float64(cfg.MaxLateness.Microseconds()),
			Target: cfg.Target, Seed: cfg.Seed,
		},
	}
	for _, s := range cfg.Specs {
		r.Configs = append(r.Configs, report.Config{Label: s.Label, Args: s.Args, Proto: string(s.Proto)})
	}
	return r
}

// planSteps returns the timed steps: the closed-loop one, then the
// open-loop rates, calibrated first when automatic.
func planSteps(ctx context.Context, cfg Config, r *report.Report) ([]report.Step, error) {
	d := cfg.Duration.Seconds()
	var steps []report.Step
	if !cfg.SkipClosed {
		steps = append(steps, report.Step{Rate: 0, DurationS: d})
	}
	if cfg.NoOpenLoop {
		cfg.Rates = nil
	} else if len(cfg.Rates) == 0 {
		cal, err := calibrate(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("calibrate the rates: %w", err)
		}
		r.Settings.CalibratedRate = cal
		cfg.Logf("calibration: %q answered %.0f req/s in closed loop; open-loop rates are fractions %v of it", cfg.Specs[0].Label, cal, cfg.Fractions)
		for _, f := range cfg.Fractions {
			cfg.Rates = append(cfg.Rates, roundRate(cal*f))
		}
	}
	for _, rate := range cfg.Rates {
		steps = append(steps, report.Step{Rate: rate, DurationS: d})
	}
	if len(steps) == 0 {
		return nil, errors.New("no steps to run: the closed loop is skipped and no rate is given")
	}
	return steps, nil
}

// roundRate rounds a rate to 2 significant digits.
func roundRate(v float64) float64 {
	if v < 10 {
		return math.Max(1, math.Round(v))
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Round(v/p) * p
}
