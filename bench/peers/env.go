package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/bench/internal/server"
	"github.com/corekv/corekv/bench/internal/suite"
	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/topology"
)

// env is what a command runs with: the flags, where the servers go, and
// the corekv binary.
type env struct {
	*common
	ctx        context.Context
	out        io.Writer
	logf       func(format string, args ...any)
	serverCPUs []int
	clientCPUs []int
	corekvBin  string
}

// newEnv confines this process to the client CPUs and builds corekv
// when needed. cleanup removes the build.
func newEnv(ctx context.Context, c *common, stdout, stderr io.Writer) (*env, func(), error) {
	e := &env{common: c, ctx: ctx, out: stdout, corekvBin: c.CorekvBin}
	e.logf = func(format string, args ...any) { fmt.Fprintf(stderr, "peers: "+format+"\n", args...) }
	var err error
	if e.clientCPUs, e.serverCPUs, err = suite.Placement(c.ClientCPUs, c.ServerCPUs); err != nil {
		return nil, nil, err
	}
	for _, cpu := range e.clientCPUs {
		if slices.Contains(e.serverCPUs, cpu) {
			e.logf("warning: client and servers share CPU %d", cpu)
			break
		}
	}
	if err := affinity.Confine(e.clientCPUs); err != nil {
		return nil, nil, fmt.Errorf("confine to CPUs %s: %w", topology.FormatCPUList(e.clientCPUs), err)
	}
	runtime.GOMAXPROCS(len(e.clientCPUs))
	cleanup := func() {}
	if e.corekvBin == "" && slices.Contains(c.Servers, corekv) {
		dir, err := os.MkdirTemp("", "corekv-peers-")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		root, err := server.ModuleRoot(ctx)
		if err == nil {
			e.corekvBin, err = serverproc.Build(ctx, root, dir)
		}
		if err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	return e, cleanup, nil
}
