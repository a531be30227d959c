// Package serverproc runs a server as a child process: start it, wait
// until it answers (GET / for corekv, a TCP connection for others), then
// stop it with SIGTERM and check that it exited cleanly; Build builds
// corekv for it. bench, bench's peers, the soak tests and the VM suite's
// guest all launch their servers through it.
package serverproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the corekv command (package github.com/corekv/corekv)
// into dir/corekv, running go build in module, a directory of the corekv
// module ("" for the current one), and returns the binary's path.
func Build(ctx context.Context, module, dir string) (string, error) {
	bin := filepath.Join(dir, "corekv")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/corekv/corekv")
	cmd.Dir = module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build corekv in %s: %w\n%s", module, err, out)
	}
	return bin, nil
}

// HermeticEnv returns this process's environment without COREKV_
// variables, which would set a corekv child's flags: a Cmd's Env for a
// server that must run with the flags it is given alone.
func HermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COREKV_") {
			env = append(env, kv)
		}
	}
	return env
}

// Config says how to start and stop one server.
type Config struct {
	// Cmd is the server's command, not yet started. Start sets its Stdout
	// and Stderr; the caller sets its arguments and environment.
	Cmd *exec.Cmd
	// Addr is the host:port to send requests to. Empty means the address
	// the server logs in its "listening on ADDR with N shards" line (as
	// with --port 0).
	Addr string
	// DialOnly makes the server ready once Addr accepts a TCP
	// connection, for servers that do not speak HTTP (memcached, Redis);
	// by default it is ready once GET / answers 200.
	DialOnly bool
	// Ready bounds the wait until the server is ready. Default 10s.
	Ready time.Duration
	// Poll is the time between two readiness probes. Default 20ms.
	Poll time.Duration
	// Stop bounds Stop's wait for the exit after SIGTERM, after which the
	// server is killed. Default 15s.
	Stop time.Duration
	// OutputLimit is how many bytes of the server's output (the last ones)
	// Output keeps. Default 1 MiB.
	OutputLimit int
}

func (c Config) withDefaults() Config {
	if c.Ready == 0 {
		c.Ready = 10 * time.Second
	}
	if c.Poll == 0 {
		c.Poll = 20 * time.Millisecond
	}
	if c.Stop == 0 {
		c.Stop = 15 * time.Second
	}
	if c.OutputLimit == 0 {
		c.OutputLimit = 1 << 20
	}
	return c
}

// Process is a running server.
type Process struct {
	// Addr is the host:port to send requests to.
	Addr string
	// Pid is the process id of the command (which may exec the server in
	// place, as taskset does).
	Pid int

	cfg     Config
	out     *tail
	exited  chan struct{} // closed once it ended and its output was read
	waitErr error
	stop    sync.Once
	stopErr error
}

// listeningRE matches the line corekv logs once its listeners are open.
var listeningRE = regexp.MustCompile(`listening on (\S+) with \d+ shards`)

// Start starts the server and waits until it is ready (see
// Config.DialOnly). If it is not within cfg.Ready, or exits first, Start stops it and returns an
// error that carries its output.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	cfg = cfg.withDefaults()
	p := &Process{Addr: cfg.Addr, cfg: cfg, out: &tail{max: cfg.OutputLimit}, exited: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cfg.Cmd.Stdout, cfg.Cmd.Stderr = w, w
	err = cfg.Cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Cmd.Path, err)
	}
	p.Pid = cfg.Cmd.Process.Pid
	addr := make(chan string, 1)
	output := make(chan struct{})
	go p.read(r, addr, output)
	go func() {
		p.waitErr = cfg.Cmd.Wait()
		<-output
		close(p.exited)
	}()
	if err := p.awaitReady(ctx, addr); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// read copies the server's output into p.out, line by line, and sends
// the address of its "listening on" line.
func (p *Process) read(r io.ReadCloser, addr chan<- string, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, p.cfg.OutputLimit)
	for sc.Scan() {
		line := sc.Text()
		p.out.Write([]byte(line + "\n"))
		if m := listeningRE.FindStringSubmatch(line); m != nil {
			select {
			case addr <- m[1]:
			default:
			}
		}
	}
}

// awaitReady waits for the address (unless given), then probes it until
// the server is ready, exits, ctx ends or cfg.Ready passes.
func (p *Process) awaitReady(ctx context.Context, addr <-chan string) error {
	deadline := time.After(p.cfg.Ready)
	for p.Addr == "" {
		select {
		case p.Addr = <-addr:
		case <-p.exited:
			return p.exitedEarly()
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("%s logged no listening address in %v\n%s", p.cfg.Cmd, p.cfg.Ready, p.Output())
		}
	}
	probe, what := p.getRoot, "answering GET /"
	if p.cfg.DialOnly {
		probe, what = p.dial, "listening"
	}
	for {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return p.exitedEarly()
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("%s not %s on %s after %v (last: %v)\n%s", p.cfg.Cmd, what, p.Addr, p.cfg.Ready, err, p.Output())
		case <-time.After(p.cfg.Poll):
		}
	}
}

func (p *Process) exitedEarly() error {
	what := "answering"
	if p.cfg.DialOnly {
		what = "listening on " + p.Addr
	}
	return fmt.Errorf("%s exited before %s: %v\n%s", p.cfg.Cmd, what, p.waitErr, p.Output())
}

// getRoot reports, as an error, unless GET / answers 200.
func (p *Process) getRoot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+"/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /: status %d", resp.StatusCode)
	}
	return nil
}

// dial reports, as an error, unless Addr accepts a TCP connection.
func (p *Process) dial(ctx context.Context) error {
	c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Output returns what the server wrote to stdout and stderr: the last
// cfg.OutputLimit bytes, in whole lines.
func (p *Process) Output() string { return p.out.String() }

// Exited is closed once the server has ended and its output was read.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr returns cmd.Wait's error once Exited is closed: nil for status 0.
func (p *Process) ExitErr() error {
	<-p.exited
	return p.waitErr
}

// Terminate sends SIGTERM and returns at once.
func (p *Process) Terminate() error {
	err := p.cfg.Cmd.Process.Signal(syscall.SIGTERM)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Kill kills the server, if it still runs, and waits for its end.
func (p *Process) Kill() {
	select {
	case <-p.exited:
	default:
		p.cfg.Cmd.Process.Kill()
		<-p.exited
	}
}

// Stop sends SIGTERM, waits for the exit (killing the server after
// cfg.Stop), and returns an error, with the output, unless it exited with
// status 0. Later calls return the first call's result.
func (p *Process) Stop() error {
	p.stop.Do(func() {
		if err := p.Terminate(); err != nil {
			p.Kill()
		}
		select {
		case <-p.exited:
			p.stopErr = p.waitErr
		case <-time.After(p.cfg.Stop):
			p.Kill()
			p.stopErr = fmt.Errorf("still running %v after SIGTERM, killed", p.cfg.Stop)
		}
		if p.stopErr != nil {
			p.stopErr = fmt.Errorf("%s: %w\n%s", p.cfg.Cmd, p.stopErr, p.Output())
		}
	})
	return p.stopErr
}

// tail keeps the last whole lines, up to max bytes, written to it.
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
		cut := over
		if i := strings.IndexByte(string(t.b[over:]), '\n'); i >= 0 {
			cut = over + i + 1
		}
		t.b = append(t.b[:0], t.b[cut:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
