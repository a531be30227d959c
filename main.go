// Command corekv is a NUMA-aware, core-pinned HTTP key-value cache server.
//
// It opens one SO_REUSEPORT listener per shard, places the shards on CPUs
// from the machine's /sys topology, and serves each from an event loop on
// its own locked (optionally pinned) thread, all over one shared store.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/alecthomas/kong"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/memlimit"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/topology"
)

const (
	// maxConcurrency caps --concurrency-limit, as the original server did.
	maxConcurrency = 500
	// minHeaderSize is the least --max-header-size: room for a request
	// line with a short key and the usual headers.
	minHeaderSize = 256
)

type cli struct {
	Serve     serveCmd         `cmd:"" default:"withargs" help:"Serve the key-value API (the default command)."`
	Topology  topologyCmd      `cmd:"" help:"Print the machine's CPU and NUMA topology and the shard plan."`
	Version   kong.VersionFlag `help:"Print the version and exit."`
	LogFormat string           `help:"Log format: text (key=value) or json (one object a line)." enum:"text,json" default:"text"`
}

// placement is what serve and topology share: where shards go.
type placement struct {
	CPUs   string `name:"cpus" placeholder:"LIST" help:"Only use these CPUs (cpulist syntax, e.g. 0-3,8-11); must lie in the process's allowed set."`
	Shards int    `help:"Number of shards (listeners and event loops); 0 means one per usable CPU, capped by the CPU quota." default:"0"`
}

type serveCmd struct {
	placement
	Host             string        `help:"Address to listen on; empty means all interfaces (dual-stack where the kernel allows)." default:""`
	Port             int           `help:"TCP port." default:"3000"`
	ConcurrencyLimit int           `help:"Requests served at once per shard (HTTP/1 requests and HTTP/2 streams); more wait. Values above 500 are capped at 500." default:"250"`
	PinCores         bool          `help:"Pin each shard's event-loop thread to its CPU and confine the whole process to the shards' CPUs."`
	Engine           string        `help:"Request engine: loop (per-core epoll loops, Linux) or std (net/http, the baseline)." enum:"loop,std" default:"${engine}"`
	Presize          int           `help:"Entries the index is presized for, when known: filling the store then never grows it; 0: small maps that grow with the store." default:"0"`
	GCPercent        int           `name:"gc-percent" help:"The Go garbage collector's GOGC: how far the heap (the store's index, and the std engine's request garbage) may grow past what the last collection kept, in percent. 0 means auto: GOGC from the environment when set, else ${gcloop} with --engine=loop, whose requests allocate nothing, and 100 with std." default:"0"`
	MaxKeySize       int           `help:"Longest key in bytes, after percent-decoding (414 beyond)." default:"1024"`
	MaxValueSize     int           `help:"Largest value in bytes (413 beyond)." default:"1048576"`
	MaxHeaderSize    int           `help:"Largest HTTP/1 request line plus headers in bytes (414/431 beyond)." default:"16384"`
	MaxMemory        memlimit.Size `help:"Bound on the store's memory (e.g. 4GiB): with --eviction=evict the memory mapped for entries plus 64 bytes per entry for the index, with none the bytes of keys plus values. auto is 80% of the memory the process may use (RAM or cgroup limit); 0 means unlimited." default:"auto"`
	Eviction         string        `help:"At --max-memory: evict (make room by evicting what was least recently written and not read since) or none (refuse the write with 507)." enum:"evict,none" default:"evict"`
	DefaultTTL       time.Duration `name:"default-ttl" help:"Time to live of a value stored without a ttl parameter (whole seconds); 0 means none." default:"0s"`
	MaxConns         int           `help:"Open connections per shard; further ones wait in the kernel's accept queue." default:"10000"`
	ReadTimeout      time.Duration `help:"Time a client has to send a whole request once it starts (408 beyond)." default:"30s"`
	IdleTimeout      time.Duration `help:"Idle keep-alive connections close after this long." default:"2m"`
	ShutdownTimeout  time.Duration `help:"On SIGINT/SIGTERM, how long to let requests in flight finish." default:"10s"`
	AdminAddr        string        `help:"Address (host:port) of the admin listener: /metrics, /stats, /healthz, /debug/pprof/. Empty disables it." default:"${admin}"`
	NUMAMemory       string        `name:"numa-memory" help:"NUMA placement of value memory: interleave (spread over every memory node), local (on the node of the shard that writes it: that stores it, or that moves it when it evicts or compacts), off (where first touched), or auto: interleave with more than one memory node, else off." default:"auto"`
	Steer            string        `help:"Which shard takes a new connection: cpu (the shard of the CPU that receives it, else one on that CPU's NUMA node; a BPF program on the listeners), hash (the kernel's hash of addresses and ports), or auto: cpu with --pin-cores, else hash." enum:"auto,cpu,hash" default:"auto"`
}

type topologyCmd struct {
	placement
	Sysfs  string `help:"Read this sysfs tree instead of /sys (its online CPUs are then the usable set)." placeholder:"DIR"`
	Procfs string `help:"Read network interrupts from this procfs tree instead of /proc; with --sysfs, network interfaces are shown only if it is set." placeholder:"DIR"`
	JSON   bool   `name:"json" help:"Print JSON instead of tables."`
}

func main() {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("corekv"),
		kong.Description("A NUMA-aware, core-pinned HTTP key-value cache server."),
		kong.DefaultEnvars("COREKV"),
		kong.Vars{"version": version(), "engine": defaultEngine(), "admin": defaultAdminAddr, "gcloop": strconv.Itoa(loopGCPercent)},
		kong.UsageOnError(),
	)
	if err != nil {
		panic(err) // the CLI struct itself is wrong
	}
	ctx, err := parser.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "corekv: %v\n", err)
		os.Exit(2)
	}
	logger := newLogger(os.Stderr, c.LogFormat)
	if err := ctx.Run(logger); err != nil {
		fmt.Fprintf(os.Stderr, "corekv: %v\n", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad flag value found after parsing; it exits with 2.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

func defaultEngine() string {
	if runtime.GOOS == "linux" {
		return shard.EngineLoop
	}
	return shard.EngineStd
}

// Validate checks flag values kong's types do not, one flag at a time.
func (s *serveCmd) Validate() error {
	switch {
	case s.Port < 0 || s.Port > 65535:
		return fmt.Errorf("--port %d: want 0..65535", s.Port)
	case s.ConcurrencyLimit < 1:
		return fmt.Errorf("--concurrency-limit %d: want at least 1", s.ConcurrencyLimit)
	case s.Shards < 0:
		return fmt.Errorf("--shards %d: want 0 (one per CPU) or more", s.Shards)
	case s.GCPercent < 0:
		return fmt.Errorf("--gc-percent %d: want 0 (auto) or more", s.GCPercent)
	case s.Presize < 0:
		return fmt.Errorf("--presize %d: want 0 or more", s.Presize)
	case s.DefaultTTL < 0 || s.DefaultTTL > api.MaxTTL || s.DefaultTTL%time.Second != 0:
		return fmt.Errorf("--default-ttl %v: want whole seconds from 0 to %v", s.DefaultTTL, api.MaxTTL)
	case s.MaxKeySize < 1:
		return fmt.Errorf("--max-key-size %d: want at least 1", s.MaxKeySize)
	case s.MaxValueSize < 0:
		return fmt.Errorf("--max-value-size %d: want 0 or more", s.MaxValueSize)
	case s.MaxHeaderSize < minHeaderSize:
		return fmt.Errorf("--max-header-size %d: want at least %d", s.MaxHeaderSize, minHeaderSize)
	case s.MaxConns < 1:
		return fmt.Errorf("--max-conns %d: want at least 1", s.MaxConns)
	case s.ReadTimeout <= 0:
		return fmt.Errorf("--read-timeout %v: want a positive duration", s.ReadTimeout)
	case s.IdleTimeout <= 0:
		return fmt.Errorf("--idle-timeout %v: want a positive duration", s.IdleTimeout)
	case s.ShutdownTimeout <= 0:
		return fmt.Errorf("--shutdown-timeout %v: want a positive duration", s.ShutdownTimeout)
	case validNUMAMemory(s.NUMAMemory) != nil:
		return validNUMAMemory(s.NUMAMemory)
	case s.PinCores && s.Engine == shard.EngineStd:
		return errors.New("--pin-cores needs --engine=loop: net/http serves each connection on an unpinned goroutine")
	}
	return validAdminAddr(s.AdminAddr)
}

func (s *serveCmd) Run(logger *log.Logger) error {
	s.capConcurrency(logger)
	s.setGCPercent()
	h := liveHost(logger)
	_, plan, err := s.plan(h)
	if err != nil {
		return err
	}
	mem, err := newNUMAMemory(s.NUMAMemory, h.machine, logger.Printf)
	if err != nil {
		return err
	}
	if s.PinCores || s.CPUs != "" {
		if err := confine(plan); err != nil {
			return err
		}
	}
	maxMemory, err := s.MaxMemory.Resolve(memlimit.DefaultProcRoot, memlimit.DefaultCgroupRoot)
	if err != nil {
		return fmt.Errorf("--max-memory=%v: %w (set a size instead)", s.MaxMemory, err)
	}
	lns, err := s.listen(h.machine, plan, maxMemory, logger)
	if err != nil {
		return err
	}
	st, err := s.newStore(maxMemory, mapFunc(mem.values))
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	cfg := s.shardConfig(plan, lns, st, logger)
	cfg.MapBuffers = mapFunc(mem.buffers)
	if mem.values != nil {
		cfg.ResidentByNode = mem.values.Resident
	}
	g, err := shard.New(cfg)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return usageError{err}
	}
	s.logPlan(plan, logger)
	warnUnserved(readNetwork(topology.DefaultRoot, topology.DefaultProcRoot, h.machine, plan, logger.Printf), logger.Printf)
	return serve(g, s.AdminAddr, logger)
}

// newLogger returns the process's logger: log/slog records, text
// (key=value) or JSON (format), one a line on w. It is a *log.Logger, so
// that every Printf is one record at level INFO.
func newLogger(w io.Writer, format string) *log.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.NewLogLogger(h, slog.LevelInfo)
}
