package suite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/corekv/corekv/bench/internal/loadgen"
	"github.com/corekv/corekv/bench/internal/proccpu"
	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/server"
	"github.com/corekv/corekv/bench/internal/workload"
	"github.com/corekv/corekv/shard"
)

// session is a server ready for load: started (or the target), its keys
// written.
type session struct {
	cfg Config
	srv *server.Server // nil for a target
	pid int            // 0 when its CPU time is not measured
	// loops are the thread ids of the server's event loops, from
	// /stats; none for the std engine or a server without them.
	loops []int
	w     *workload.Workload
	load  loadgen.Config
}

// open starts spec's server, or takes the target (whose workload, with
// its ledger, lives in *target from round to round), and preloads it.
func (c Config) open(ctx context.Context, spec Spec, target **workload.Workload) (*session, error) {
	s := &session{cfg: c, load: c.Load}
	s.load.Proto = spec.Proto
	if c.Target != "" {
		if *target == nil {
			*target, _ = workload.New(c.Workload) // validated
		}
		s.w, s.pid, s.load.Addr = *target, c.TargetPid, c.Target
	} else {
		srv, err := server.Start(ctx, server.Config{Bin: c.Bin, Args: spec.Args, CPUs: c.ServerCPUs, Admin: c.ProfileDir != ""})
		if err != nil {
			return nil, err
		}
		s.srv, s.pid, s.load.Addr = srv, srv.Pid, srv.Addr
		s.w, _ = workload.New(c.Workload)
	}
	if err := loadgen.Preload(ctx, s.load, s.w); err != nil {
		s.close()
		return nil, fmt.Errorf("preload: %w", err)
	}
	return s, nil
}

// close stops a started server.
func (s *session) close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Stop()
}

func (s *session) stats(ctx context.Context) (*shard.Stats, error) {
	return server.FetchStats(ctx, s.load.Addr)
}

// serverCPU returns the server's CPU time so far, if it is measured.
func (s *session) serverCPU() (time.Duration, bool) {
	if s.pid == 0 {
		return 0, false
	}
	d, err := proccpu.Process(s.pid)
	return d, err == nil
}

// loopCPU returns the CPU time of the server's event-loop threads so
// far, if they are known and measured.
func (s *session) loopCPU() (time.Duration, bool) {
	var sum time.Duration
	for _, tid := range s.loops {
		d, err := proccpu.Thread(s.pid, tid)
		if err != nil {
			return 0, false
		}
		sum += d
	}
	return sum, len(s.loops) > 0
}

// runner runs one round of one configuration.
type runner struct {
	cfg      Config
	spec     Spec
	steps    []report.Step
	round    int
	progress func(what string)
}

func (rr runner) run(ctx context.Context, target **workload.Workload) (*report.Round, error) {
	s, err := rr.cfg.open(ctx, rr.spec, target)
	if err != nil {
		return nil, err
	}
	rd := &report.Round{Round: rr.round}
	if st, err := s.stats(ctx); err == nil {
		rd.Engine, rd.GOMAXPROCS = st.Engine, st.GOMAXPROCS
		for _, sh := range st.Shards {
			if sh.TID > 0 && s.pid > 0 {
				s.loops = append(s.loops, sh.TID)
			}
		}
	} else {
		rr.cfg.Logf("%s: no /stats: %v", rr.spec.Label, err)
	}
	rr.progress("warm-up")
	if err := rr.warmup(ctx, s); err != nil {
		s.close()
		return nil, err
	}
	profiled := rr.profile(ctx, s, rd)
	for i, step := range rr.steps {
		rr.progress(describe(step))
		m, err := rr.measure(ctx, s, i, step)
		if err != nil {
			s.close()
			return nil, err
		}
		rd.Measurements = append(rd.Measurements, *m)
	}
	if err := profiled(); err != nil {
		rr.cfg.Logf("%s round %d: %v", rr.spec.Label, rr.round, err)
		rd.Profile = ""
	}
	if st, err := s.stats(ctx); err == nil {
		rd.Shards = st.Shards
	}
	if err := s.close(); err != nil {
		rd.ServerExit = err.Error()
	}
	return rd, nil
}

// profile starts a CPU profile of the round's server over its timed
// steps (their total duration, rounded up to whole seconds), when asked
// to, and names its file in rd. The function it returns waits for it.
func (rr runner) profile(ctx context.Context, s *session, rd *report.Round) func() error {
	if rr.cfg.ProfileDir == "" || s.srv == nil {
		return func() error { return nil }
	}
	var total float64
	for _, st := range rr.steps {
		total += st.DurationS
	}
	rd.Profile = fmt.Sprintf("%s-round%d.pb.gz", FileName(rr.spec.Label), rr.round)
	return s.srv.Profile(ctx, int(math.Ceil(total)), filepath.Join(rr.cfg.ProfileDir, rd.Profile))
}

// FileName returns label with every character but letters, digits, '.',
// '_' and '-' replaced by '_', for file names.
func FileName(label string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
			return r
		}
		return '_'
	}, label)
}

func describe(st report.Step) string {
	if st.Rate == 0 {
		return "closed loop"
	}
	return fmt.Sprintf("open loop at %.0f req/s", st.Rate)
}

func (rr runner) warmup(ctx context.Context, s *session) error {
	if rr.cfg.Warmup <= 0 {
		return nil
	}
	res, err := loadgen.Run(ctx, s.load, s.w, loadgen.Step{Duration: rr.cfg.Warmup}, rr.seed(-1))
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if n := res.Errors.Total(); n > 0 {
		rr.cfg.Logf("%s round %d: %d failed requests in the warm-up; first: %s", rr.spec.Label, rr.round, n, res.FirstError)
	}
	return ctx.Err()
}

// seed returns the generator seed of a step (-1: the warm-up): equal for
// every configuration, so that each round sends them the same operations.
func (rr runner) seed(step int) uint64 {
	return rr.cfg.Seed*1_000_003 + uint64(rr.round)*1009 + uint64(step+1)
}

// measure runs one timed step and reads both processes' CPU time around it.
func (rr runner) measure(ctx context.Context, s *session, i int, st report.Step) (*report.Measurement, error) {
	step := loadgen.Step{Rate: st.Rate, Duration: rr.cfg.Duration}
	runtime.GC() // collect now rather than during the step
	srv0, srvOK := s.serverCPU()
	loop0, loopOK := s.loopCPU()
	cli0, cliErr := proccpu.Process(os.Getpid())
	t0 := time.Now()
	res, err := loadgen.Run(ctx, s.load, s.w, step, rr.seed(i))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wall := time.Since(t0)
	srv1, srv1OK := s.serverCPU()
	loop1, loop1OK := s.loopCPU()
	cli1, cli1Err := proccpu.Process(os.Getpid())
	m := &report.Measurement{
		Step: i, Throughput: res.Throughput(), Completed: res.Completed, Sent: res.Sent, ElapsedS: res.Elapsed.Seconds(),
		Latency: report.Summarize(res.All()),
		Get:     report.Summarize(res.Latency[workload.Get]), Store: report.Summarize(res.Latency[workload.Store]),
		Errors: res.Errors, FirstError: res.FirstError,
	}
	if st.Rate > 0 {
		m.Lateness = report.Summarize(res.Lateness)
	}
	if srvOK && srv1OK && res.Completed > 0 {
		used := srv1 - srv0
		m.ServerCPUPerReq = float64(used.Nanoseconds()) / 1e3 / float64(res.Completed)
		m.ServerUtil = utilization(used, wall, len(rr.cfg.ServerCPUs))
		if loopOK && loop1OK && used > 0 {
			m.LoopShare = (loop1 - loop0).Seconds() / used.Seconds()
		}
	}
	switch {
	case res.Busy > 0: // a busy-polling client uses all its CPU; count its work
		m.ClientUtil = utilization(res.Busy, wall, 1)
	case errors.Join(cliErr, cli1Err) == nil:
		m.ClientUtil = utilization(cli1-cli0, wall, len(rr.cfg.ClientCPUs))
	}
	plan := schedule.Plan{Rate: st.Rate, Duration: rr.cfg.Duration}
	m.Status = classify(st, plan.Total(), res.Sent, m, rr.cfg.MaxLateness)
	return m, nil
}

func utilization(used, wall time.Duration, cpus int) float64 {
	if cpus == 0 || wall <= 0 {
		return 0
	}
	return used.Seconds() / (wall.Seconds() * float64(cpus))
}

// Thresholds of classify.
const (
	// minAnswered is the share of the target rate the server must answer
	// to have kept up: throughput counts up to the last answer, so with
	// 1s steps 99% means the answers ended within about 10ms of the
	// schedule, without a backlog.
	minAnswered = 0.99
	minSent     = 0.95 // of the plan: fewer means the client broke off
	busyClient  = 0.90 // client CPU utilization that counts as saturated
)

// classify says whether an open-loop step measured the server: OK when
// the sends kept to the plan (p99 lateness within maxLate, at least 95%
// sent) and at least 99% of the target rate was answered; Saturated when
// the answers fell short while the client had CPU to spare, so the
// server could not keep up; ClientStalled when the sends were late
// although the client had CPU to spare and the server kept up (the
// client's CPU was taken from it); ClientBound otherwise: the client
// itself fell behind, and the latencies measure it.
func classify(st report.Step, planned int, sent int64, m *report.Measurement, maxLate time.Duration) report.Status {
	if st.Rate == 0 {
		return report.Closed
	}
	late := m.Lateness.P99 > float64(maxLate.Microseconds()) || float64(sent) < minSent*float64(planned)
	under := m.Throughput < minAnswered*st.Rate
	busy := m.ClientUtil >= busyClient
	switch {
	case !late && !under:
		return report.OK
	case under && !busy:
		return report.Saturated
	case !under && !busy:
		return report.ClientStalled
	default:
		return report.ClientBound
	}
}

// calibrate measures the first configuration's closed-loop throughput,
// after a warm-up, on a server of its own.
func calibrate(ctx context.Context, cfg Config) (float64, error) {
	var target *workload.Workload
	s, err := cfg.open(ctx, cfg.Specs[0], &target)
	if err != nil {
		return 0, err
	}
	defer s.close()
	cfg.Progress(Progress{What: "calibrating the rates on " + cfg.Specs[0].Label})
	rr := runner{cfg: cfg, spec: cfg.Specs[0]}
	if err := rr.warmup(ctx, s); err != nil {
		return 0, err
	}
	res, err := loadgen.Run(ctx, s.load, s.w, loadgen.Step{Duration: cfg.Duration}, rr.seed(0))
	if err != nil {
		return 0, err
	}
	if n := res.Errors.Total(); n > 0 {
		return 0, fmt.Errorf("%d failed requests; first: %s", n, res.FirstError)
	}
	if res.Throughput() <= 0 {
		return 0, errors.New("no answers")
	}
	return res.Throughput(), nil
}
