package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/bench/internal/chart"
	"github.com/corekv/corekv/bench/internal/loadgen"
	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/bench/internal/server"
	"github.com/corekv/corekv/bench/internal/suite"
	"github.com/corekv/corekv/bench/internal/workload"
	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/topology"
)

// run places bench and the servers on their CPUs, builds the server if
// needed, runs the comparison and writes its results.
func run(ctx context.Context, c *cli, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) }
	cfg, err := c.suiteConfig()
	if err != nil {
		return err
	}
	cfg.Logf = logf
	if cfg.ClientCPUs, cfg.ServerCPUs, err = suite.Placement(c.ClientCPUs, c.ServerCPUs); err != nil {
		return err
	}
	if cfg.Load.ConnCPUs, err = c.connCPUs(cfg.ClientCPUs); err != nil {
		return err
	}
	if cpu, shared := overlap(cfg.ClientCPUs, cfg.ServerCPUs); shared {
		// A polling client would take the CPU from the server.
		logf("warning: client and server share CPU %d: they compete for it, and the server's figures suffer; the client blocks instead of polling", cpu)
		cfg.Load.Block = true
	}
	if err := affinity.Confine(cfg.ClientCPUs); err != nil {
		return fmt.Errorf("confine bench to CPUs %s: %w", topology.FormatCPUList(cfg.ClientCPUs), err)
	}
	// One P more than CPUs: the load generator's event loop holds one
	// while it polls, and the runtime's own work (the collector, bench's
	// other goroutines) must not wait for it.
	runtime.GOMAXPROCS(len(cfg.ClientCPUs) + 1)
	if cfg.Target == "" && cfg.Bin == "" {
		bin, cleanup, err := buildServer(ctx)
		if err != nil {
			return err
		}
		defer cleanup()
		cfg.Bin = bin
	}
	if isTerminal(stdout) {
		cfg.Progress = newBar(stdout).update
	}
	if c.Profile {
		if err := os.MkdirAll(c.Out, 0o755); err != nil {
			return err
		}
		cfg.ProfileDir = c.Out
	}
	r, runErr := suite.Run(ctx, cfg)
	if r == nil {
		return runErr
	}
	mergeProfiles(ctx, r, c.Out, logf)
	if err := r.WriteTable(stdout); err != nil {
		return err
	}
	return errors.Join(runErr, c.save(r, stdout))
}

// suiteConfig turns the flags into a suite.Config (without placement).
func (c *cli) suiteConfig() (suite.Config, error) {
	cfg := suite.Config{
		Bin: c.ServerBin, TargetPid: c.TargetPid,
		Repeat: c.Repeat, Warmup: c.Warmup, Duration: c.Duration, SkipClosed: !c.Closed,
		MaxLateness: c.MaxLateness, Seed: c.Seed, Command: commandLine(os.Args[1:]),
		Load: loadgen.Config{
			Proto: loadgen.Proto(c.Proto), Conns: c.Connections, Streams: c.Streams,
			Pipeline: c.Pipeline, Timeout: c.Timeout,
		},
		Workload: workload.Config{
			Keys: c.Keys, ReadRatio: c.ReadRatio, WriteOnly: c.ReadRatio == 0,
			ValueSize: c.ValueSize, Dist: workload.Dist(c.KeyDist), ZipfS: c.ZipfS,
		},
	}
	if c.Target != "" {
		addr, err := targetAddr(c.Target)
		if err != nil {
			return cfg, err
		}
		cfg.Target = addr
	}
	rates, openLoop, err := parseRates(c.Rates)
	if err != nil {
		return cfg, err
	}
	cfg.Rates, cfg.NoOpenLoop = rates, !openLoop
	specs := c.Compare
	switch {
	case len(specs) > 0:
	case c.Target != "":
		specs = []string{"target="}
	default:
		specs = []string{"corekv="}
	}
	for _, s := range specs {
		sp, err := suite.ParseSpec(s)
		if err != nil {
			return cfg, err
		}
		cfg.Specs = append(cfg.Specs, sp)
	}
	// Without --server-bin or --target, run builds the server after
	// this check: validate as if it had, so bad flags fail before a build.
	check := cfg
	if check.Bin == "" && check.Target == "" {
		check.Bin = "corekv"
	}
	return cfg, check.Validate()
}

// commandLine returns bench's command line as a shell would take it,
// with go run's temporary binary path replaced by "bench".
func commandLine(args []string) string {
	quoted := []string{"bench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$\\*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted = append(quoted, a)
	}
	return strings.Join(quoted, " ")
}

// parseRates parses --rates: "auto" (no rates, open loop), "none" (no
// open loop), or a comma-separated list of positive rates.
func parseRates(s string) (rates []float64, openLoop bool, err error) {
	switch strings.TrimSpace(s) {
	case "auto", "":
		return nil, true, nil
	case "none":
		return nil, false, nil
	}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || math.IsInf(v, 0) {
			return nil, false, fmt.Errorf("parse --rates %q: bad rate %q: want a positive number of requests/s", s, f)
		}
		rates = append(rates, v)
	}
	return rates, true, nil
}

// targetAddr returns host:port of a --target URL.
func targetAddr(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("parse --target: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("parse --target %q: want http://host:port", s)
	}
	if u.Port() == "" {
		return u.Host + ":80", nil
	}
	return u.Host, nil
}

// connCPUs parses --conn-cpus, which must lie within the client's CPUs.
func (c *cli) connCPUs(client []int) ([]int, error) {
	if c.ConnCPUs == "" {
		return nil, nil
	}
	cpus, err := topology.ParseCPUList(c.ConnCPUs)
	if err != nil {
		return nil, fmt.Errorf("--conn-cpus: %w", err)
	}
	for _, cpu := range cpus {
		if !slices.Contains(client, cpu) {
			return nil, fmt.Errorf("--conn-cpus: CPU %d is not among the client's CPUs %s (--client-cpus)", cpu, topology.FormatCPUList(client))
		}
	}
	if len(cpus) == 0 {
		return nil, errors.New("--conn-cpus: empty CPU list")
	}
	return cpus, nil
}

// overlap returns a CPU in both sets and true, or false if they share none.
func overlap(a, b []int) (cpu int, ok bool) {
	for _, x := range a {
		if slices.Contains(b, x) {
			return x, true
		}
	}
	return 0, false
}

// buildServer builds corekv from the module holding the current
// directory into a temporary directory.
func buildServer(ctx context.Context) (string, func(), error) {
	root, err := server.ModuleRoot(ctx)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "corekv-bench-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin, err := serverproc.Build(ctx, root, dir)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return bin, cleanup, nil
}

// save writes the report's files and charts into --out.
func (c *cli) save(r *report.Report, stdout io.Writer) error {
	if c.Out == "" {
		return nil
	}
	if err := r.Save(c.Out); err != nil {
		return err
	}
	charts, err := chart.Write(r, c.Out)
	fmt.Fprintf(stdout, "\nwrote %s: report.json rounds.csv summary.csv summary.txt", c.Out)
	for _, p := range charts {
		fmt.Fprintf(stdout, " %s", filepath.Base(p))
	}
	if len(charts) == 0 {
		fmt.Fprint(stdout, " (no charts: no open-loop step measured the server)")
	}
	fmt.Fprintln(stdout)
	return err
}
