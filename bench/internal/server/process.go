package server

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
	// Args are extra arguments; bench adds --host, --port and
	// --admin-addr itself.
	Args []string
	// CPUs, when set, confines the server to these CPUs with taskset -c
	// (util-linux), from its first instruction on.
	CPUs []int
	// Host is the address to listen on. Default "127.0.0.1".
	Host string
	// Port is the port; 0 picks a free one.
	Port int
	// Admin starts the server's admin listener (--admin-addr) on a free
	// port of Host, for CPU profiles; without it the listener is off.
	Admin bool
	// Ready bounds the wait for the server's first answer. Default 10s.
	Ready time.Duration
	// Stop bounds the wait for a clean exit after SIGTERM, after which
	// the server is killed. Default 15s.
	Stop time.Duration
}

func (c Config) withDefaults() Config {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
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
	// Addr is host:port to send requests to.
	Addr string
	// Pid is the server's process id (taskset execs it in place).
	Pid int
	// AdminAddr is the admin listener's host:port, with Config.Admin.
	AdminAddr string

	p *serverproc.Process
}

// Start starts the server and waits until GET / answers 200.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Port == 0 {
		p, err := FreePort(cfg.Host)
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		cfg.Port = p
	}
	admin := ""
	if cfg.Admin {
		p, err := FreePort(cfg.Host)
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		admin = net.JoinHostPort(cfg.Host, strconv.Itoa(p))
	}
	args := append([]string{"--host", cfg.Host, "--port", strconv.Itoa(cfg.Port), "--admin-addr=" + admin}, cfg.Args...)
	name := cfg.Bin
	if len(cfg.CPUs) > 0 {
		args = append([]string{"-c", topology.FormatCPUList(cfg.CPUs), cfg.Bin}, args...)
		name = "taskset"
	}
	p, err := serverproc.Start(ctx, serverproc.Config{
		Cmd:         exec.Command(name, args...),
		Addr:        net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		Ready:       cfg.Ready,
		Stop:        cfg.Stop,
		OutputLimit: 16 << 10,
	})
	if err != nil {
		return nil, err
	}
	return &Server{Addr: p.Addr, Pid: p.Pid, AdminAddr: admin, p: p}, nil
}

// Stop sends SIGTERM, waits for the exit (killing the server after
// Config.Stop), and returns an error unless it exited with status 0.
func (s *Server) Stop() error { return s.p.Stop() }
