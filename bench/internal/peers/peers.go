// Package peers starts the caches corekv is measured against, memcached
// and Redis, and corekv itself, as child processes confined to given
// CPUs, and reads their resident memory.
package peers

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

	cfg     Config
	cmd     *exec.Cmd
	out     *tail
	exited  chan struct{}
	waitErr error
	stop    sync.Once
}

// Start starts the server and waits until it accepts a connection.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	name, args := cfg.Bin, cfg.Args
	if len(cfg.CPUs) > 0 {
		name, args = "taskset", append([]string{"-c", topology.FormatCPUList(cfg.CPUs), cfg.Bin}, args...)
	}
	s := &Server{cfg: cfg, out: &tail{max: 16 << 10}, exited: make(chan struct{})}
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

// awaitReady dials cfg.Addr until it accepts, the server exits, or
// cfg.Ready passes.
func (s *Server) awaitReady(ctx context.Context) error {
	deadline := time.Now().Add(s.cfg.Ready)
	for {
		c, err := net.DialTimeout("tcp", s.cfg.Addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before listening on %s: %v\n%s", s.cfg.Bin, s.cfg.Addr, s.waitErr, s.out)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %v: %w\n%s", s.cfg.Bin, s.cfg.Addr, s.cfg.Ready, err, s.out)
		}
	}
}

// Memory returns the server's resident memory now and at its peak.
func (s *Server) Memory() (Memory, error) {
	return ReadMemory(s.Pid)
}

// Output returns the last lines the server wrote.
func (s *Server) Output() string { return s.out.String() }

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
		return fmt.Errorf("%s: %w\n%s", s.cfg.Bin, s.waitErr, s.out)
	}
	return nil
}

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
