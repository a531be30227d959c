// Package peers starts the caches corekv is measured against, memcached
// and Redis, and corekv itself, as child processes confined to given
// CPUs, and reads their resident memory.
package peers

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"time"

	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/topology"
)

// Config says how to run one server.
type Config struct {
	// Bin is the server binary.
	Bin string
	// Args are its arguments, including the address it listens on
	// (MemcachedArgs, RedisArgs and CorekvArgs build them).
	Args []string
	// Addr is the host:port it listens on; Start waits until it accepts
	// a connection there.
	Addr string
	// CPUs, when set, confines the server to these CPUs with taskset -c
	// (util-linux), from its first instruction on.
	CPUs []int
	// Ready bounds the wait for the first accepted connection. Default 10s.
	Ready time.Duration
	// Stop bounds the wait for an exit after SIGTERM, after which the
	// server is killed. Default 15s.
	Stop time.Duration
}

func (c Config) withDefaults() Config {
	if c.Ready == 0 {
		c.Ready = 10 * time.Second
	}
	if c.Stop == 0 {
		c.Stop = 15 * time.Second
	}
	return c
}

// Server is a running server process.
type Server struct {
	// Pid is the server's process id (taskset execs it in place).
	Pid int

	p *serverproc.Process
}

// Start starts the server and waits until it accepts a connection.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	name, args := cfg.Bin, cfg.Args
	if len(cfg.CPUs) > 0 {
		name, args = "taskset", append([]string{"-c", topology.FormatCPUList(cfg.CPUs), cfg.Bin}, args...)
	}
	p, err := serverproc.Start(ctx, serverproc.Config{
		Cmd:         exec.Command(name, args...),
		Addr:        cfg.Addr,
		DialOnly:    true,
		Ready:       cfg.Ready,
		Stop:        cfg.Stop,
		OutputLimit: 16 << 10,
	})
	if err != nil {
		return nil, err
	}
	return &Server{Pid: p.Pid, p: p}, nil
}

// Memory returns the server's resident memory now and at its peak.
func (s *Server) Memory() (Memory, error) {
	return ReadMemory(s.Pid)
}

// Stop sends SIGTERM, waits for the exit (killing the server after
// Config.Stop), and returns an error unless it exited with status 0.
func (s *Server) Stop() error { return s.p.Stop() }

// FreeAddr returns 127.0.0.1:port with a port that nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hostPort splits addr into its host and numeric port.
func hostPort(addr string) (string, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", fmt.Errorf("address %q: bad port %q", addr, port)
	}
	return host, port, nil
}
