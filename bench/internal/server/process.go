package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/corekv/corekv/topology"
)

// Config says how to run one server.
type Config struct {
	// Bin is the server binary.
	Bin string
	// Args are extra arguments; bench adds --host and --port itself.
	Args []string
	// CPUs, when set, confines the server to these CPUs with taskset -c
	// (util-linux), from its first instruction on.
	CPUs []int
	// Host is the address to listen on. Default "127.0.0.1".
	Host string
	// Port is the port; 0 picks a free one.
	Port int
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

	cfg     Config
	cmd     *exec.Cmd
	out     *tail
	exited  chan struct{}
	waitErr error
	stop    sync.Once
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
	args := append([]string{"--host", cfg.Host, "--port", strconv.Itoa(cfg.Port)}, cfg.Args...)
	name := cfg.Bin
	if len(cfg.CPUs) > 0 {
		args = append([]string{"-c", topology.FormatCPUList(cfg.CPUs), cfg.Bin}, args...)
		name = "taskset"
	}
	s := &Server{Addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), cfg: cfg, out: &tail{max: 16 << 10}, exited: make(chan struct{})}
	s.cmd = exec.Command(name, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s.Pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.awaitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// awaitReady polls GET / until it answers 200, the server exits, or
// cfg.Ready passes.
func (s *Server) awaitReady(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.Ready)
	for {
		_, status, err := get(ctx, "http://"+s.Addr+"/")
		if err == nil && status == 200 {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server %s exited before answering: %v\n%s", s.cfg.Bin, s.waitErr, s.out)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server %s not answering GET / on %s after %v (last: status %d, %v)\n%s",
				s.cfg.Bin, s.Addr, s.cfg.Ready, status, err, s.out)
		}
	}
}

// Stop sends SIGTERM, waits for the exit (killing the server after
// cfg.Stop), and returns an error unless it exited with status 0.
func (s *Server) Stop() error {
	s.stop.Do(func() {
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.cmd.Process.Kill()
		}
		select {
		case <-s.exited:
		case <-time.After(s.cfg.Stop):
			s.cmd.Process.Kill()
			<-s.exited
			s.waitErr = fmt.Errorf("still running %v after SIGTERM, killed", s.cfg.Stop)
		}
	})
	if s.waitErr != nil {
		return fmt.Errorf("server %s: %w\n%s", s.cfg.Bin, s.waitErr, s.out)
	}
	return nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
