// Command bench loads corekv (or any server with its API) with a
// read/write key-value workload and compares configurations side by side:
// pinned against unpinned, lock-free against locked map, HTTP/1.1 against
// h2c, event loop against net/http.
//
//	go run ./bench --compare 'pinned=--pin-cores' --compare 'unpinned='
//
// For each configuration bench builds and starts the server itself,
// confined to --server-cpus while bench runs on --client-cpus, and runs
// --repeat interleaved rounds (A B A B …) on fresh servers: a preload, a
// warm-up, a closed-loop step at full speed and open-loop steps at fixed
// rates, whose latency counts from each request's intended send time. It
// prints median [min–max] per figure, the ratio to the first configuration
// and a Mann-Whitney U p-value, and with --out writes JSON, CSV and PNG
// charts.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
)

type cli struct {
	Compare   []string `placeholder:"LABEL=ARGS" sep:"none" help:"A configuration to compare: a label, '=', and the server's arguments (split at spaces; a --proto=h1|h2c among them is bench's protocol for it). Repeat the flag; the first is the baseline of every ratio. Default: one configuration, 'corekv=' (no arguments; 'target=' with --target)."`
	Target    string   `placeholder:"URL" help:"Load this running server (http://host:port) instead of starting one; configurations then carry no server arguments."`
	TargetPid int      `placeholder:"PID" help:"With --target, the server's process id, to measure its CPU time per request."`
	ServerBin string   `placeholder:"PATH" type:"path" help:"Server binary to start; default: build the module's main package (go build) into a temporary directory."`

	ServerCPUs string `name:"server-cpus" placeholder:"LIST" help:"CPUs the server runs on (taskset -c, cpulist syntax). Default: the upper half of the allowed cores (CPU 1 on a 2-CPU machine)."`
	ClientCPUs string `name:"client-cpus" placeholder:"LIST" help:"CPUs bench itself runs on (all its threads; GOMAXPROCS follows). Default: the lower half of the allowed cores (CPU 0 on a 2-CPU machine)."`
	ConnCPUs   string `name:"conn-cpus" placeholder:"LIST" help:"Pin each connection's traffic to a CPU: the connections are dealt round-robin over these CPUs (a subset of --client-cpus), one load thread pinned to each. Over loopback each SYN is then processed on its connection's CPU, so corekv --steer=cpu can be compared with --steer=hash. Default: one load thread, unpinned within --client-cpus."`

	Repeat      int           `default:"5" help:"Rounds per configuration, interleaved, each on a fresh server."`
	Warmup      time.Duration `default:"1s" help:"Closed-loop warm-up before each round's timed steps."`
	Duration    time.Duration `default:"1s" help:"Length of each timed step."`
	Rates       string        `default:"auto" help:"Open-loop rates in requests/s, comma-separated (e.g. 5000,10000,20000); 'auto': fractions 0.1,0.25,0.5,0.75,0.9,1 of the first configuration's closed-loop throughput, measured once first; 'none': no open-loop steps."`
	Closed      bool          `default:"true" negatable:"" help:"Run the closed-loop (maximum throughput) step; --no-closed skips it."`
	MaxLateness time.Duration `default:"1ms" help:"p99 send lateness beyond which an open-loop step counts as fallen behind (then client-bound, not a server result, when the client's CPU was busy)."`

	Proto       string        `default:"h1" enum:"h1,h2c" help:"Protocol for configurations that name none: h1 (HTTP/1.1, pipelined in open loop) or h2c (HTTP/2 prior knowledge)."`
	Connections int           `default:"16" help:"TCP connections."`
	Streams     int           `default:"8" help:"h2c: concurrent streams per connection."`
	Pipeline    int           `default:"1" help:"HTTP/1.1 closed loop: requests written at once per connection."`
	Timeout     time.Duration `default:"2s" help:"How long after a step's last send answers may still arrive; later ones count as timeouts."`

	ReadRatio float64 `default:"0.8" help:"Fraction of requests that are GET /get/{key}; the rest are POST /store/{key}."`
	Keys      int     `default:"10000" help:"Distinct keys, all written before timing."`
	ValueSize int     `default:"100" help:"Value size in bytes (at least 8: each value carries its key and version, so that every read is checked)."`
	KeyDist   string  `default:"uniform" enum:"uniform,zipf" help:"Key distribution: uniform or zipf."`
	ZipfS     float64 `name:"zipf-s" default:"1.1" help:"Exponent of the zipf distribution (above 1)."`
	Seed      uint64  `default:"1" help:"Seed of the request generators; equal seeds send equal requests."`

	Out     string `default:"bench/out" placeholder:"DIR" help:"Directory for report.json, rounds.csv, summary.csv, summary.txt and the PNG charts; empty: none."`
	Profile bool   `help:"Take a CPU profile of the server over each round's timed steps, through its admin listener, and write them to --out with each configuration's merged profile and its call graph (profile-LABEL.pb.gz, profile-LABEL.svg; needs Graphviz's dot)."`
}

func (c *cli) Validate() error {
	if c.Repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", c.Repeat)
	}
	if c.Duration <= 0 || c.Warmup < 0 {
		return fmt.Errorf("--duration %v, --warmup %v: want positive", c.Duration, c.Warmup)
	}
	if c.ReadRatio < 0 || c.ReadRatio > 1 {
		return fmt.Errorf("--read-ratio %v: want 0 to 1", c.ReadRatio)
	}
	if c.TargetPid != 0 && c.Target == "" {
		return fmt.Errorf("--target-pid needs --target")
	}
	if c.Target != "" && c.ServerBin != "" {
		return fmt.Errorf("--target and --server-bin exclude each other")
	}
	if c.Profile && (c.Target != "" || c.Out == "") {
		return fmt.Errorf("--profile needs a server bench starts (no --target) and an --out directory")
	}
	_, _, err := parseRates(c.Rates)
	return err
}

func main() {
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("bench"),
		kong.Description("Compare corekv configurations side by side: throughput, latency from intended send times, server CPU per request."),
		kong.UsageOnError(),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.FatalIfErrorf(run(ctx, &c, os.Stdout, os.Stderr))
}
