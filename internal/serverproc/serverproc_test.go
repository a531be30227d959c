package serverproc

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeEnv makes the test binary act as a server (see fakeServer), as
// net/http's BenchmarkServer re-runs its test binary as the client.
const fakeEnv = "SERVERPROC_TEST_FAKE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeServer(mode))
	}
	os.Exit(m.Run())
}

// fakeServer listens on 127.0.0.1 port 0, logs the address as corekv
// does and serves GET / until SIGTERM. Modes: "serve"; "fail" exits 3 at
// once; "stubborn" ignores SIGTERM; "exit1" exits 1 on SIGTERM; "tcp"
// accepts connections but never answers.
func fakeServer(mode string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "fake: refusing to start")
		return 3
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	fmt.Fprintf(os.Stderr, "corekv: 2026/01/01 00:00:00 listening on %s with 1 shards: backlog 4096\n", ln.Addr())
	if mode == "tcp" {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
	} else {
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Hello, World!") }))
	}
	for range sigs {
		switch mode {
		case "stubborn":
			fmt.Fprintln(os.Stderr, "fake: ignoring SIGTERM")
		case "exit1":
			return 1
		default:
			fmt.Fprintln(os.Stderr, "fake: stopping")
			return 0
		}
	}
	return 0
}

func fake(t *testing.T, mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fakeEnv+"="+mode)
	return cmd
}

func TestStartStop(t *testing.T) {
	p, err := Start(t.Context(), Config{Cmd: fake(t, "serve")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	if !strings.HasPrefix(p.Addr, "127.0.0.1:") || p.Pid <= 0 {
		t.Errorf("Start: Addr %q, Pid %d; want the logged 127.0.0.1 address and a pid", p.Addr, p.Pid)
	}
	resp, err := http.Get("http://" + p.Addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := p.Stop(); err != nil {
		t.Errorf("Stop() = %v, want a clean exit", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop() = %v, want the same clean exit", err)
	}
	if out := p.Output(); !strings.Contains(out, "listening on "+p.Addr) || !strings.HasSuffix(out, "fake: stopping\n") {
		t.Errorf("Output() = %q, want the listening line and the stop message", out)
	}
	if err := p.ExitErr(); err != nil {
		t.Errorf("ExitErr() = %v, want nil", err)
	}
}

func TestStartGivenAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Nothing answers at the given address: Start must poll it, not the
	// logged one, and give up after Ready.
	_, err = Start(t.Context(), Config{Cmd: fake(t, "serve"), Addr: ln.Addr().String(), Ready: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not answering GET / on "+ln.Addr().String()) {
		t.Errorf("Start with a silent Addr = %v, want not answering on %s", err, ln.Addr())
	}
}

func TestStartFails(t *testing.T) {
	_, err := Start(t.Context(), Config{Cmd: fake(t, "fail")})
	if err == nil || !strings.Contains(err.Error(), "exited before answering: exit status 3") || !strings.Contains(err.Error(), "fake: refusing to start") {
		t.Errorf("Start of a failing server = %v, want its exit status and output", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, Config{Cmd: fake(t, "serve")}); err == nil {
		t.Error("Start with a cancelled context succeeded")
	}
}

func TestStopKillsAndReports(t *testing.T) {
	tests := []struct {
		name, mode, wantErr string
	}{
		{"ignores SIGTERM", "stubborn", "still running 200ms after SIGTERM, killed"},
		{"exits 1", "exit1", "exit status 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Start(t.Context(), Config{Cmd: fake(t, tc.mode), Stop: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Stop(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Stop() = %v, want %q", err, tc.wantErr)
			}
			select {
			case <-p.Exited():
			default:
				t.Error("Stop returned while the server still runs")
			}
		})
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 10}
	for _, line := range []string{"one\n", "two\n", "three\n", "four\n"} {
		tl.Write([]byte(line))
	}
	if got := tl.String(); got != "four\n" {
		t.Errorf("tail of 10 bytes = %q, want the whole lines that fit: %q", got, "four\n")
	}
}

func TestDialOnly(t *testing.T) {
	p, err := Start(t.Context(), Config{Cmd: fake(t, "tcp"), DialOnly: true})
	if err != nil {
		t.Fatalf("Start(DialOnly) of a server that accepts but never answers = %v, want ready", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop() = %v, want a clean exit", err)
	}
	_, err = Start(t.Context(), Config{Cmd: fake(t, "tcp"), Ready: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not answering GET / on 127.0.0.1:") {
		t.Errorf("Start of a server that never answers GET / = %v, want not answering", err)
	}
	_, err = Start(t.Context(), Config{Cmd: fake(t, "fail"), Addr: "127.0.0.1:1", DialOnly: true})
	if err == nil || !strings.Contains(err.Error(), "exited before listening on 127.0.0.1:1") {
		t.Errorf("Start(DialOnly) of a failing server = %v, want exited before listening", err)
	}
}

func TestHermeticEnv(t *testing.T) {
	t.Setenv("COREKV_SHARDS", "3")
	t.Setenv("SERVERPROC_TEST_KEPT", "1")
	env := HermeticEnv()
	for _, kv := range env {
		if strings.HasPrefix(kv, "COREKV_") {
			t.Errorf("HermeticEnv() has %q", kv)
		}
	}
	if !slices.Contains(env, "SERVERPROC_TEST_KEPT=1") {
		t.Errorf("HermeticEnv() = %q, want SERVERPROC_TEST_KEPT=1 kept", env)
	}
}
