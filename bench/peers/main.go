// Command peers measures corekv against memcached and Redis, each
// started here as a child process on the server CPUs and loaded over one
// pipelined connection in its own protocol (memcached's text protocol,
// RESP, HTTP/1.1):
//
//	go run ./bench/peers memory     # peak resident memory / bytes stored
//	go run ./bench/peers hitratio   # cache-aside hit ratio on Zipf streams at one budget
//
// memory stores the same keys and values in each server (three
// workloads, with and without overwrites) with no memory limit, and
// divides the server's peak resident memory (VmHWM) by the bytes of keys
// plus values it holds. hitratio replays the same Zipf key streams as a
// cache-aside client (GET; on a miss, SET) against each server with its
// memory limit set to the same share of the working set.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

type cli struct {
	common
	Memory   memoryCmd   `cmd:"" help:"Store the same keys and values in each server, no memory limit; print peak resident memory / bytes stored."`
	Hitratio hitratioCmd `cmd:"" help:"Replay Zipf key streams as a cache-aside client against each server at the same memory budget; print hit ratios."`
}

// common are the flags both commands take.
type common struct {
	Servers      []string `default:"corekv,memcached,redis" enum:"corekv,memcached,redis" help:"Servers to measure, in this order."`
	CorekvBin    string   `name:"corekv-bin" type:"path" placeholder:"PATH" help:"corekv binary; default: build the module's main package (go build) into a temporary directory."`
	CorekvArgs   string   `name:"corekv-args" placeholder:"ARGS" help:"Extra corekv arguments, split at spaces (e.g. '--eviction=none')."`
	MemcachedBin string   `name:"memcached-bin" default:"memcached" help:"memcached binary."`
	RedisBin     string   `name:"redis-bin" default:"redis-server" help:"redis-server binary."`
	ServerCPUs   string   `name:"server-cpus" placeholder:"LIST" help:"CPUs the servers run on (taskset -c). Default: the upper half of the allowed cores (CPU 1 on a 2-CPU machine)."`
	ClientCPUs   string   `name:"client-cpus" placeholder:"LIST" help:"CPUs this command runs on. Default: the lower half of the allowed cores (CPU 0 on a 2-CPU machine)."`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "peers: %v\n", err)
		os.Exit(1)
	}
}

// run parses args, places this process and the servers on their CPUs,
// builds corekv if it is measured and no binary was given, and runs the
// command.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("peers"),
		kong.Description("Measure corekv against memcached and Redis: memory per byte stored, and hit ratio at one budget."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
	)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return err
	}
	e, cleanup, err := newEnv(ctx, &c.common, stdout, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	return kctx.Run(e)
}
