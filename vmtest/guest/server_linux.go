package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/corekv/corekv/vmtest"
)

// stats is the part of corekv's /stats document the checks read.
type stats struct {
	Engine string `json:"engine"`
	Shards []struct {
		Shard    int    `json:"shard"`
		CPU      int    `json:"cpu"`
		Core     int    `json:"core"`
		Package  int    `json:"package"`
		Node     int    `json:"node"`
		Pinned   bool   `json:"pinned"`
		TID      int    `json:"tid"`
		Accepted uint64 `json:"accepted"`
		Open     int64  `json:"open"`
	} `json:"shards"`
}

// server is a running `corekv --pin-cores`.
type server struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	addr string
	done chan error
}

// checkServer starts corekv under v and runs the server checks against it.
func (g *guest) checkServer(v vmtest.Variant, port int) {
	prefix := "server/" + v.Name + "/"
	srv, err := startServer(v, port)
	g.rep.result(prefix+"start", err)
	if err != nil {
		for _, name := range vmtest.ServerChecks()[1:] {
			g.rep.fail(prefix+name, errors.New("server did not start"))
		}
		return
	}
	detail, err := g.checkPin(srv, v)
	g.report(prefix+"pin", detail, err)
	g.rep.result(prefix+"http1", checkAPI(h1Client(), srv.addr, 1))
	g.rep.result(prefix+"h2c", checkAPI(h2cClient(), srv.addr, 2))
	g.rep.result(prefix+"upgrade", checkUpgrade(srv.addr))
	detail, err = checkSpread(srv.addr)
	g.report(prefix+"spread", detail, err)
	g.rep.result(prefix+"stop", srv.stop())
	if err != nil {
		g.rep.log("%s: server output: %q", prefix, srv.out.tail(2000))
	}
}

func (g *guest) report(name, detail string, err error) {
	if err != nil {
		g.rep.fail(name, err)
		return
	}
	g.rep.pass(name, detail)
}

// startServer starts corekv and waits until GET / answers.
func startServer(v vmtest.Variant, port int) (*server, error) {
	s := &server{out: &lockedBuffer{}, addr: "127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1)}
	s.cmd = command(context.Background(), v, "--pin-cores", "--port", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, body, err := get(h1Client(), s.addr, "/")
		if err == nil && body == "Hello, World!" {
			return s, nil
		}
		select {
		case werr := <-s.done:
			return nil, fmt.Errorf("%v exited: %v: %q", s.cmd.Args, werr, s.out.tail(2000))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%v: no answer on %s: %v, body %q: %q", s.cmd.Args, s.addr, err, body, s.out.tail(2000))
		}
	}
}

// stop sends SIGTERM and waits for a clean exit; after 15 s it kills.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("exit after SIGTERM: %w: %q", err, s.out.tail(500))
		}
		return nil
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("killed: no exit 15 s after SIGTERM")
	}
}

// checkPin compares /stats with the plan of `corekv topology --json` under
// the same variant: the same CPU per shard, each event-loop thread pinned
// to exactly its CPU, and the CPU's node and package as the Preset says.
func (g *guest) checkPin(s *server, v vmtest.Variant) (string, error) {
	plan, err := readTopology(v)
	if err != nil {
		return "", err
	}
	st, err := getStats(h1Client(), s.addr)
	if err != nil {
		return "", err
	}
	var c collect
	if len(st.Shards) != len(plan.Shards) {
		c.addf("%d shards, the plan has %d", len(st.Shards), len(plan.Shards))
	}
	var detail []string
	for i, sh := range st.Shards {
		if i < len(plan.Shards) && plan.Shards[i].CPU != sh.CPU {
			c.addf("shard %d on cpu %d, the plan says %d", i, sh.CPU, plan.Shards[i].CPU)
		}
		want, ok := g.layout.Find(sh.CPU)
		if !ok || !sh.Pinned || sh.Node != want.Node || sh.Package != want.Package {
			c.addf("shard %d: cpu %d pinned %v node %d package %d, want pinned node %d package %d",
				i, sh.CPU, sh.Pinned, sh.Node, sh.Package, want.Node, want.Package)
		}
		allowed, err := allowedList(s.cmd.Process.Pid, sh.TID)
		if err != nil {
			c.add(err)
		} else if allowed != strconv.Itoa(sh.CPU) {
			c.addf("shard %d: thread %d Cpus_allowed_list %q, want %q", i, sh.TID, allowed, strconv.Itoa(sh.CPU))
		}
		detail = append(detail, fmt.Sprintf("%d:cpu%d/node%d/tid%d", i, sh.CPU, sh.Node, sh.TID))
	}
	return strings.Join(detail, " "), c.err()
}

// allowedList reads Cpus_allowed_list of one thread of pid.
func allowedList(pid, tid int) (string, error) {
	name := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no Cpus_allowed_list", name)
}

func getStats(c *http.Client, addr string) (*stats, error) {
	code, body, err := get(c, addr, "/stats")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /stats: status %d", code)
	}
	return decodeStats([]byte(body))
}

func decodeStats(body []byte) (*stats, error) {
	var st stats
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("decode /stats %q: %w", body, err)
	}
	return &st, nil
}

// lockedBuffer collects a child's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n bytes written.
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.buf.Bytes()
	return string(data[max(0, len(data)-n):])
}
