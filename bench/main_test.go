package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/bench/internal/server"
	"github.com/corekv/corekv/bench/internal/suite"
	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/topology"
)

// fakeEnv makes the test binary act as a key-value server (fakeServer),
// so that the end-to-end test runs without corekv.
const fakeEnv = "BENCH_TEST_FAKE_SERVER"

// placement is the client's and the server's CPUs, chosen before the
// first run confines the test process to the client's.
var placement []string

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		os.Exit(fakeServer())
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	client, srv := suite.SplitCPUs(nil, allowed)
	placement = []string{"--client-cpus", topology.FormatCPUList(client), "--server-cpus", topology.FormatCPUList(srv)}
	os.Exit(m.Run())
}

// fakeServer serves corekv's API from a map over HTTP/1.1 and h2c until
// SIGTERM.
func fakeServer() int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	host, port := fs.String("host", "", ""), fs.String("port", "", "")
	fs.Bool("pin-cores", false, "")
	fs.String("admin-addr", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	var mu sync.Mutex
	m := map[string][]byte{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Hello, World!") })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"engine":"fake","gomaxprocs":%d,"shards":[]}`, runtime.GOMAXPROCS(0))
	})
	mux.HandleFunc("POST /store/{key}", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		m[r.PathValue("key")] = b
		mu.Unlock()
	})
	mux.HandleFunc("GET /get/{key}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v, ok := m[r.PathValue("key")]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(v)
	})
	srv := &http.Server{Addr: net.JoinHostPort(*host, *port), Handler: mux, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
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

// benchRun parses args as the command line does and runs bench, which
// confines the test process to the client CPUs.
func benchRun(t *testing.T, args ...string) (*report.Report, string) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Name("bench"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), &c, &stdout, &stderr); err != nil {
		t.Fatalf("bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &stdout, &stderr)
	}
	b, err := os.ReadFile(filepath.Join(c.Out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return &r, stdout.String()
}

// shortRun is a run of a second or two: two configurations, one round,
// a closed-loop step and an open-loop one. The lateness bound is lifted,
// so that a busy test machine cannot turn the open-loop step into a
// client-bound one without charts.
func shortRun(out string, extra ...string) []string {
	return append([]string{
		"--compare", "pinned=--pin-cores", "--compare", "unpinned=",
		"--repeat", "1", "--warmup", "100ms", "--duration", "300ms", "--rates", "2000", "--max-lateness", "1m",
		"--connections", "2", "--keys", "200", "--timeout", "30s", "--out", out,
	}, append(placement, extra...)...)
}

// checkShape asserts what every short run must produce.
func checkShape(t *testing.T, r *report.Report, table, out string) {
	t.Helper()
	if len(r.Configs) != 2 || r.Configs[0].Label != "pinned" || r.Configs[1].Label != "unpinned" ||
		len(r.Configs[0].Args) != 1 || r.Configs[0].Args[0] != "--pin-cores" {
		t.Errorf("configs = %+v, want pinned (--pin-cores) and unpinned", r.Configs)
	}
	if len(r.Steps) != 2 || r.Steps[0].Rate != 0 || r.Steps[1].Rate != 2000 {
		t.Errorf("steps = %+v, want closed loop then 2000/s", r.Steps)
	}
	if len(r.Rounds) != 2 || r.Rounds[0].Config != 0 || r.Rounds[1].Config != 1 {
		t.Fatalf("rounds = %d, want one per configuration, in order", len(r.Rounds))
	}
	for _, rd := range r.Rounds {
		if rd.GOMAXPROCS < 1 || rd.ServerExit != "" {
			t.Errorf("%s: GOMAXPROCS %d, exit %q: want the server's /stats and a clean exit", r.Configs[rd.Config].Label, rd.GOMAXPROCS, rd.ServerExit)
		}
		if len(rd.Measurements) != 2 {
			t.Fatalf("%s: %d measurements, want 2", r.Configs[rd.Config].Label, len(rd.Measurements))
		}
		for _, m := range rd.Measurements {
			if n := m.Errors.Total(); n != 0 {
				t.Errorf("%s step %d: %d failed requests %+v: %s", r.Configs[rd.Config].Label, m.Step, n, m.Errors, m.FirstError)
			}
			if m.Completed == 0 || m.Latency.P50 <= 0 || m.ServerCPUPerReq <= 0 || m.ClientUtil <= 0 {
				t.Errorf("%s step %d: %+v, want answers, latency and CPU figures", r.Configs[rd.Config].Label, m.Step, m)
			}
		}
		if open := rd.Measurements[1]; open.Completed != 600 || open.Lateness.Count != 600 {
			t.Errorf("open loop at 2000/s for 300ms: %d answers, %d sends timed, want 600", open.Completed, open.Lateness.Count)
		}
	}
	if len(r.Summary) != 4 {
		t.Errorf("%d summaries, want 2 steps × 2 configurations", len(r.Summary))
	}
	for _, f := range []string{"rounds.csv", "summary.csv", "summary.txt", "latency-p50.png", "latency-p99.png", "cpu-per-request.png"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v, want a file", f, err)
		}
	}
	for _, want := range []string{"closed loop", "open loop at 2,000 req/s", "pinned", "unpinned", "no failed requests"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestEndToEndFake(t *testing.T) {
	t.Setenv(fakeEnv, "1")
	out := t.TempDir()
	r, table := benchRun(t, shortRun(out, "--server-bin", os.Args[0])...)
	checkShape(t, r, table, out)
}

func TestEndToEndH2C(t *testing.T) {
	t.Setenv(fakeEnv, "1")
	out := t.TempDir()
	r, _ := benchRun(t, shortRun(out, "--server-bin", os.Args[0], "--proto", "h2c")...)
	for _, c := range r.Configs {
		if c.Proto != "h2c" {
			t.Errorf("config %s over %s, want h2c", c.Label, c.Proto)
		}
	}
	for _, rd := range r.Rounds {
		for _, m := range rd.Measurements {
			if m.Errors.Total() != 0 || m.Completed == 0 {
				t.Errorf("h2c step %d: %d answers, errors %+v: %s", m.Step, m.Completed, m.Errors, m.FirstError)
			}
		}
	}
}

// TestEndToEndCorekv runs bench against corekv built from this module,
// with --profile: each configuration gets its rounds' CPU profiles, their
// merge and its call graph.
func TestEndToEndCorekv(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corekv")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := server.ModuleRoot(ctx)
	if err != nil {
		t.Skipf("no module to build corekv from: %v", err)
	}
	bin, err := serverproc.Build(ctx, root, t.TempDir())
	if err != nil {
		t.Skipf("corekv does not build (yet): %v", err)
	}
	for _, proto := range []string{"h1", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			out := t.TempDir()
			args := shortRun(out, "--server-bin", bin, "--proto", proto)
			if proto == "h1" {
				args = append(args, "--profile")
			}
			r, table := benchRun(t, args...)
			checkShape(t, r, table, out)
			for _, rd := range r.Rounds {
				if rd.Engine == "" || len(rd.Shards) == 0 {
					t.Errorf("%s: engine %q, %d shards in /stats, want corekv's", r.Configs[rd.Config].Label, rd.Engine, len(rd.Shards))
				}
				if r.Configs[rd.Config].Proto != proto {
					t.Errorf("%s spoke %s, want %s", r.Configs[rd.Config].Label, r.Configs[rd.Config].Proto, proto)
				}
				for _, m := range rd.Measurements {
					// Reads of the threads and the process are not atomic: a little over 1 is fine.
					if rd.Engine == "loop" && (m.LoopShare <= 0 || m.LoopShare > 1.05) {
						t.Errorf("%s step %d: loop threads' share of the server's CPU %v, want (0, 1]", r.Configs[rd.Config].Label, m.Step, m.LoopShare)
					}
				}
			}
			if proto == "h1" {
				checkProfiles(t, r, table, out)
			}
		})
	}
}

// checkProfiles asserts what --profile must produce: each configuration's
// round profile, their merge and, with Graphviz, its call graph, named in
// the summary.
func checkProfiles(t *testing.T, r *report.Report, table, out string) {
	t.Helper()
	_, dotErr := exec.LookPath("dot")
	for _, c := range r.Configs {
		if len(c.Profiles) != 1 || c.Profile != "profile-"+c.Label+".pb.gz" {
			t.Errorf("%s: profiles %v, merged %q; want one round's and profile-%s.pb.gz", c.Label, c.Profiles, c.Profile, c.Label)
			continue
		}
		for _, p := range append(c.Profiles, c.Profile) {
			if b, err := os.ReadFile(filepath.Join(out, p)); err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
				t.Errorf("%s: %s is not a gzipped profile: %v", c.Label, p, err)
			}
		}
		if !strings.Contains(table, c.Profile) {
			t.Errorf("the summary does not name %s:\n%s", c.Profile, table)
		}
		if dotErr != nil {
			continue // no Graphviz: no call graph
		}
		if b, err := os.ReadFile(filepath.Join(out, c.Graph)); err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: call graph %q: %v, want an SVG", c.Label, c.Graph, err)
		}
	}
}
