package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/store"
	"github.com/corekv/corekv/topology"
)

// capConcurrency lowers --concurrency-limit to maxConcurrency, saying so.
func (s *serveCmd) capConcurrency(logger *log.Logger) {
	if s.ConcurrencyLimit > maxConcurrency {
		logger.Printf("--concurrency-limit %d is above %d: capped at %d", s.ConcurrencyLimit, maxConcurrency, maxConcurrency)
		s.ConcurrencyLimit = maxConcurrency
	}
}

func (s *serveCmd) logPlan(plan []topology.Shard, logger *log.Logger) {
	for _, p := range plan {
		logger.Printf("shard %d: cpu %d core %d package %d node %d pinned=%v engine=%s",
			p.Shard, p.CPU, p.Core, p.Package, p.Node, s.PinCores, s.Engine)
	}
}

// listen opens a listener per shard of plan, steers them (--steer) and
// logs them with the limits.
func (s *serveCmd) listen(m *topology.Machine, plan []topology.Shard, maxMemory int64, logger *log.Logger) ([]*socket.Listener, error) {
	g, err := socket.OpenGroup(socket.Config{Host: s.Host, Port: s.Port}, len(plan))
	if err != nil {
		return nil, err
	}
	lns := g.Listeners
	steer(g, steerMode(s.Steer, s.PinCores), m, plan, logger.Printf)
	logger.Printf("listening on %v with %d shards: %v", lns[0].Addr, len(lns), lns[0].Effective)
	logger.Printf("limits: max-memory %s (eviction %s), max-conns %d per shard, concurrency %d per shard",
		memoryLimit(maxMemory), s.Eviction, s.MaxConns, s.ConcurrencyLimit)
	return lns, nil
}

func (s *serveCmd) shardConfig(plan []topology.Shard, lns []*socket.Listener, st *store.Cache, logger *log.Logger) shard.Config {
	return shard.Config{
		Engine:           s.Engine,
		Plan:             plan,
		Listeners:        lns,
		Pin:              s.PinCores,
		Store:            st,
		Limits:           api.Limits{MaxKeySize: s.MaxKeySize, MaxValueSize: s.MaxValueSize},
		DefaultTTL:       s.DefaultTTL,
		ConcurrencyLimit: s.ConcurrencyLimit,
		MaxHeaderSize:    s.MaxHeaderSize,
		MaxConns:         s.MaxConns,
		ReadTimeout:      s.ReadTimeout,
		IdleTimeout:      s.IdleTimeout,
		ShutdownTimeout:  s.ShutdownTimeout,
		Logf:             logger.Printf,
	}
}

// serve runs g until SIGINT or SIGTERM; a second signal ends the process
// at once. The admin endpoints, on adminAddr unless it is empty, outlive
// the drain, so that /healthz says so.
func serve(g *shard.Group, adminAddr string, logger *log.Logger) error {
	adminLn, err := listenAdmin(adminAddr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restores the default action: the next signal kills
	}()
	actx, astop := context.WithCancel(context.Background())
	defer astop()
	go serveAdmin(actx, adminLn, g, logger)
	return g.Serve(ctx)
}

func memoryLimit(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
}

// newStore builds the store, its segments mapped by mapSeg (nil: no NUMA
// placement). Segments are 1 MiB, or just large enough for the largest
// entry (header, key and value) that --max-value-size and --max-key-size
// allow, rounded up to 4 KiB: with the defaults, 1 MiB + 4 KiB. Smaller
// segments waste less at the ends of those being filled.
func (s *serveCmd) newStore(maxBytes int64, mapSeg func(size, node int) ([]byte, error)) (*store.Cache, error) {
	seg := max(store.DefaultSegmentSize, (store.EntrySize(s.MaxKeySize, s.MaxValueSize)+4095)&^4095)
	cfg := store.Config{Presize: s.Presize, MaxBytes: maxBytes, SegmentSize: seg, Map: mapSeg}
	if s.Eviction == "none" {
		cfg.Eviction = store.EvictNone
	}
	return store.New(cfg)
}

// loopGCPercent is --gc-percent's auto value with the loop engine. Its
// requests allocate nothing, so the heap is the store's index and the
// garbage is the index's old tables as it grows: at GOGC 100 they pile
// up to as much again as the live index before a collection (measured:
// 1,000,000 keys of 100 B, peak resident memory 1.92 times the bytes
// stored at 100, 1.84 at 25), and collections are rare either way.
const loopGCPercent = 25

// setGCPercent applies --gc-percent (see its help).
func (s *serveCmd) setGCPercent() {
	if p, ok := s.gcPercent(os.LookupEnv); ok {
		debug.SetGCPercent(p)
	}
}

// gcPercent returns the GOGC that --gc-percent asks for, and false when
// it leaves the runtime's own (GOGC from the environment) alone.
func (s *serveCmd) gcPercent(lookupEnv func(string) (string, bool)) (int, bool) {
	switch {
	case s.GCPercent != 0:
		return s.GCPercent, true
	case hasEnv(lookupEnv, "GOGC"):
		return 0, false
	case s.Engine == shard.EngineLoop:
		return loopGCPercent, true
	}
	return 100, true
}

func hasEnv(lookupEnv func(string) (string, bool), name string) bool {
	_, ok := lookupEnv(name)
	return ok
}

// confine keeps the whole process, runtime threads included, on the
// shards' CPUs, and sizes GOMAXPROCS to match, plus one: each loop holds
// a P on its locked thread, and with no P to spare the runtime hands a
// loop's P off and wakes a thread to look for work every time the loop
// blocks in epoll_wait (measured under h2c load on one shard: the
// runtime's threads took 18% of the process's CPU, 3% with the spare P).
func confine(plan []topology.Shard) error {
	cpus := make([]int, 0, len(plan))
	for _, p := range plan {
		cpus = append(cpus, p.CPU)
	}
	if err := affinity.Confine(cpus); err != nil {
		return fmt.Errorf("confine to CPUs %s: %w", topology.FormatCPUList(cpus), err)
	}
	runtime.GOMAXPROCS(len(cpus) + 1)
	return nil
}
