// Package report holds what a bench run measured, round by round, sums it
// up across rounds (median, min–max, ratio to the first configuration and
// a Mann-Whitney U test, as benchstat does), and writes it as a terminal
// table, JSON and CSV.
package report

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/corekv/corekv/bench/internal/loadgen"
	"github.com/corekv/corekv/shard"
)

// Report is a whole run.
type Report struct {
	Machine  Machine  `json:"machine"`
	Command  string   `json:"command"`
	Settings Settings `json:"settings"`
	// Configs are the compared configurations, the first being the
	// baseline of every ratio.
	Configs []Config `json:"configs"`
	// Steps are the timed steps every round runs, in order.
	Steps []Step `json:"steps"`
	// Rounds are all rounds of all configurations, in the order run.
	Rounds []Round `json:"rounds"`
	// Summary sums up each step of each configuration across rounds.
	Summary []Summary `json:"summary"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUModel   string `json:"cpu_model"`
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go_version"`
	ServerCPUs string `json:"server_cpus"`
	ClientCPUs string `json:"client_cpus"`
}

// Settings are the load settings common to every configuration.
type Settings struct {
	Keys        int     `json:"keys"`
	ReadRatio   float64 `json:"read_ratio"`
	ValueSize   int     `json:"value_size"`
	KeyDist     string  `json:"key_dist"`
	Connections int     `json:"connections"`
	Streams     int     `json:"streams"`
	Pipeline    int     `json:"pipeline"`
	Repeat      int     `json:"repeat"`
	WarmupS     float64 `json:"warmup_s"`
	MaxLateness float64 `json:"max_lateness_us"`
	Target      string  `json:"target,omitempty"`
	// CalibratedRate is the closed-loop throughput the automatic rates
	// are fractions of, 0 when the rates were given.
	CalibratedRate float64 `json:"calibrated_rate,omitempty"`
	Seed           uint64  `json:"seed"`
}

// Config is one compared configuration.
type Config struct {
	Label string   `json:"label"`
	Args  []string `json:"server_args"`
	Proto string   `json:"proto"`
	// Profiles are the CPU profiles of its rounds' servers (bench
	// --profile), file names in the output directory.
	Profiles []string `json:"profiles,omitempty"`
	// Profile is their merge, and Graph its call graph rendered by pprof.
	Profile string `json:"profile,omitempty"`
	Graph   string `json:"profile_graph,omitempty"`
}

// Step is one timed step: closed loop (Rate 0) or open loop at Rate.
type Step struct {
	Rate      float64 `json:"rate"`
	DurationS float64 `json:"duration_s"`
}

// Mode returns "closed" or "open".
func (s Step) Mode() string {
	if s.Rate == 0 {
		return "closed"
	}
	return "open"
}

// Round is one configuration's run on a fresh server.
type Round struct {
	Config       int                `json:"config"` // index into Report.Configs
	Round        int                `json:"round"`  // from 1
	Engine       string             `json:"engine,omitempty"`
	GOMAXPROCS   int                `json:"gomaxprocs,omitempty"`
	Shards       []shard.ShardStats `json:"shards,omitempty"`
	Profile      string             `json:"profile,omitempty"` // its CPU profile's file, with --profile
	Measurements []Measurement      `json:"measurements"`
	ServerExit   string             `json:"server_exit,omitempty"`
}

// Status says whether a step measured the server.
type Status string

// The statuses.
const (
	// OK: requests went out on time and the server kept up.
	OK Status = "ok"
	// Saturated: the server fell behind the target rate (fewer than 99%
	// answered per second, suite's minAnswered, or sends held back by its
	// backpressure) while the client had CPU to spare: a server result,
	// past its knee.
	Saturated Status = "saturated"
	// ClientBound: the client fell behind (late sends, under the rate)
	// with its CPUs busy: not a server result.
	ClientBound Status = "client-bound"
	// ClientStalled: sends went out late although the client had CPU to
	// spare and the server kept up: something else (another process, the
	// hypervisor) took the client's CPU, and the latencies count the
	// stall. Not a server result either.
	ClientStalled Status = "client-stalled"
	// Closed: a closed-loop step, which has no target to miss.
	Closed Status = "closed"
)

// ServerResult reports whether a step with status s measured the server
// rather than the client.
func (s Status) ServerResult() bool {
	return s != ClientBound && s != ClientStalled
}

// Measurement is one step of one round.
type Measurement struct {
	Step       int            `json:"step"` // index into Report.Steps
	Throughput float64        `json:"throughput"`
	Completed  int64          `json:"completed"`
	Sent       int64          `json:"sent"`
	ElapsedS   float64        `json:"elapsed_s"`
	Latency    Latency        `json:"latency"`
	Get        Latency        `json:"get"`
	Store      Latency        `json:"store"`
	Lateness   Latency        `json:"lateness"`
	Errors     loadgen.Errors `json:"errors"`
	FirstError string         `json:"first_error,omitempty"`
	// ServerCPUPerReq is the server's CPU time over the step divided by
	// the correct answers, in microseconds; 0 when unknown.
	ServerCPUPerReq float64 `json:"server_cpu_us_per_req"`
	// ServerUtil and ClientUtil are the CPU time used over the step as a
	// fraction of the wall time of their CPU sets.
	ServerUtil float64 `json:"server_util"`
	ClientUtil float64 `json:"client_util"`
	// LoopShare is the share of the server's CPU time over the step that
	// its shards' event-loop threads used (from their TIDs in /stats); 0
	// when unknown or when it has no loops (the std engine).
	LoopShare float64 `json:"loop_share,omitempty"`
	Status    Status  `json:"status"`
}

// Latency is a latency distribution's summary, in microseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p999_us"`
	Max   float64 `json:"max_us"`
	Mean  float64 `json:"mean_us"`
}

// Summarize reads the percentiles of h, which holds nanoseconds.
func Summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	us := func(ns int64) float64 { return float64(ns) / float64(time.Microsecond) }
	return Latency{
		Count: h.TotalCount(),
		P50:   us(h.ValueAtQuantile(50)),
		P90:   us(h.ValueAtQuantile(90)),
		P99:   us(h.ValueAtQuantile(99)),
		P999:  us(h.ValueAtQuantile(99.9)),
		Max:   us(h.Max()),
		Mean:  h.Mean() / float64(time.Microsecond),
	}
}
