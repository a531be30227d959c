package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/bench/internal/proccpu"
	"github.com/corekv/corekv/shard"
)

// fakeEnv makes the test binary act as a server (see fakeServer), as
// net/http's BenchmarkServer re-runs its test binary as the client.
const fakeEnv = "BENCH_SERVER_TEST_FAKE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeServer(mode))
	}
	os.Exit(m.Run())
}

// fakeServer serves GET / and GET /stats on --host/--port until SIGTERM;
// mode "fail" exits 3 at once, after a message.
func fakeServer(mode string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "fake: refusing to start")
		return 3
	}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	host := fs.String("host", "", "")
	port := fs.String("port", "", "")
	admin := fs.String("admin-addr", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *admin != "" { // corekv's admin listener, its CPU profile only
		mux := http.NewServeMux()
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		go http.ListenAndServe(*admin, mux)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Hello, World!") })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(shard.Stats{Engine: "fake", GOMAXPROCS: runtime.GOMAXPROCS(0), Shards: []shard.ShardStats{{CPU: -1, Requests: 7}}})
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: net.JoinHostPort(*host, *port), Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestStartStatsStop(t *testing.T) {
	allowed, err := affinity.Allowed()
	if err != nil {
		t.Skipf("cannot read the allowed CPUs: %v", err)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset (util-linux) not installed")
	}
	cpu := allowed[len(allowed)-1]
	t.Setenv(fakeEnv, "serve")
	s, err := Start(context.Background(), Config{Bin: os.Args[0], CPUs: []int{cpu}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	st, err := FetchStats(context.Background(), s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Engine != "fake" || st.GOMAXPROCS != 1 || len(st.Shards) != 1 || st.Shards[0].Requests != 7 {
		t.Errorf("FetchStats() = %+v, want the fake's, with GOMAXPROCS 1 under taskset -c %d", st, cpu)
	}
	got, err := affinity.ThreadCPUsAllowed(s.Pid, s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{cpu}) {
		t.Errorf("server's main thread may run on %v, want [%d]", got, cpu)
	}
	if cpu, err := proccpu.Process(s.Pid); err != nil || cpu <= 0 {
		t.Errorf("proccpu.Process(%d) = %v, %v, want above 0", s.Pid, cpu, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop() = %v, want a clean exit", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop() = %v, want the same clean exit", err)
	}
}

// TestProfile takes a CPU profile through the admin listener Start asked
// for.
func TestProfile(t *testing.T) {
	t.Setenv(fakeEnv, "serve")
	s, err := Start(context.Background(), Config{Bin: os.Args[0], Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if s.AdminAddr == "" {
		t.Fatal("Start with Admin: no AdminAddr")
	}
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if err := s.Profile(context.Background(), 1, path)(); err != nil {
		t.Fatalf("Profile: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("profile file: %v, want a gzipped profile", err)
	}
	plain, err := Start(context.Background(), Config{Bin: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Stop()
	if err := plain.Profile(context.Background(), 1, path)(); err == nil || !strings.Contains(err.Error(), "no admin listener") {
		t.Errorf("Profile without an admin listener = %v, want an error saying so", err)
	}
}

func TestStartFails(t *testing.T) {
	t.Setenv(fakeEnv, "fail")
	_, err := Start(context.Background(), Config{Bin: os.Args[0]})
	if err == nil || !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "fake: refusing to start") {
		t.Errorf("Start of a failing server = %v, want an error with its output", err)
	}
}
