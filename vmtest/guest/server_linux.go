package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// server is a running `corekv --pin-cores`.
type server struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	addr string
	done chan error
}

// checkServer starts corekv under v and runs the server checks against
// it. When any of them fails, the server's output goes to the console.
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
	failed := false
	report := func(name, detail string, err error) {
		failed = failed || err != nil
		g.report(prefix+name, detail, err)
	}
	detail, err := g.checkPin(srv, v)
	report("pin", detail, err)
	report("http1", "", checkAPI(h1Client(), srv.addr, 1))
	report("h2c", "", checkAPI(h2cClient(), srv.addr, 2))
	report("upgrade", "", checkUpgrade(srv.addr))
	detail, err = checkSpread(srv.addr, 1)
	report("spread", detail, err)
	detail, err = checkSpread(srv.addr, 2)
	report("spread-h2c", detail, err)
	report("stop", "", srv.stop())
	if failed {
		g.rep.log("%s: server output: %q", strings.TrimSuffix(prefix, "/"), srv.out.tail(2000))
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

func getStats(c *http.Client, addr string) (*shard.Stats, error) {
	code, body, err := get(c, addr, "/stats")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /stats: status %d", code)
	}
	return decodeStats([]byte(body))
}

func decodeStats(body []byte) (*shard.Stats, error) {
	var st shard.Stats
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
