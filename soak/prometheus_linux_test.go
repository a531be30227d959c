package soak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corekv/corekv/shard"
)

// promWait bounds the waits for Prometheus: to start, and to have scraped
// what was sent. It only catches hangs.
const promWait = 60 * time.Second

// TestPrometheus proves the metrics with the real thing: Debian's
// prometheus scrapes corekv's admin listener every 250 ms while a known
// number of requests goes to each shard (/stats on the admin listener
// tells which shard took each connection), and its HTTP API must then
// report those counts per shard, in the request counter and in the
// latency histogram; promtool must pass the exposition.
func TestPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corekv and runs Prometheus; skipped in -short mode")
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian package prometheus, which scripts/test.sh installs)")
	}
	shards := min(runtime.NumCPU(), 2)
	srv := startServer(t, buildCorekv(t), 5*time.Second, "--shards", strconv.Itoa(shards))
	admin := srv.adminAddr()
	prom := startPrometheus(t, promBin, admin)

	want := driveShards(t, srv.addr, admin, shards)
	t.Logf("requests per shard: %v", want)
	got := prom.waitVector(t, `sum by (shard) (corekv_requests_total)`, want)
	if !maps.Equal(got, want) {
		t.Errorf("Prometheus: requests by shard %v, want %v", got, want)
	}
	if got := prom.waitVector(t, `sum by (shard) (corekv_request_duration_seconds_count)`, want); !maps.Equal(got, want) {
		t.Errorf("Prometheus: latency histogram counts by shard %v, want %v", got, want)
	}
	p99 := prom.vector(t, `histogram_quantile(0.99, sum by (shard, le) (corekv_request_duration_seconds_bucket))`)
	for sh := range want {
		if v := p99[sh]; !(v > 0 && v <= 1) {
			t.Errorf("Prometheus: p99 latency of shard %s = %v s, want within the histogram's 0-1 s", sh, v)
		}
	}
	if up := prom.vector(t, `up{job="corekv"}`); up[""] != 1 {
		t.Errorf("Prometheus: up = %v, want 1 (a target scraped without errors)", up)
	}
	checkPromtool(t, admin)
	srv.stop()
}

// driveShards opens connections until every one of the shards has taken
// at least two, sends a known number of requests on each (a store, then
// reads of the key and of a missing one), and returns how many each shard
// has answered since it started, by its label.
func driveShards(t *testing.T, addr, admin string, shards int) map[string]float64 {
	t.Helper()
	want := map[string]float64{}
	for _, s := range adminStats(t, admin).Shards { // the harness's first /stats, on one of them
		want[strconv.Itoa(s.Shard)] = float64(s.Requests)
	}
	conns := map[string]int{}
	for i := 0; i < 64 && (len(conns) < shards || minValue(conns) < 2); i++ {
		before := adminStats(t, admin)
		n := 10 + i
		pipeline(t, addr, i, n)
		after := adminStats(t, admin)
		took := ""
		for j, s := range after.Shards {
			switch d := s.Requests - before.Shards[j].Requests; {
			case d == uint64(n) && took == "":
				took = strconv.Itoa(s.Shard)
			case d != 0:
				t.Fatalf("connection %d: shard %d answered %d requests, want 0 or %d", i, s.Shard, d, n)
			}
		}
		if took == "" {
			t.Fatalf("connection %d: no shard answered its %d requests", i, n)
		}
		want[took] += float64(n)
		conns[took]++
	}
	if len(conns) < shards {
		t.Fatalf("64 connections all went to shards %v of %d", conns, shards)
	}
	return want
}

func minValue(m map[string]int) int {
	least := -1
	for _, v := range m {
		if least < 0 || v < least {
			least = v
		}
	}
	return least
}

// pipeline sends n requests on one connection: a store of key c<i>, reads
// of it and one of a missing key, and reads all n answers.
func pipeline(t *testing.T, addr string, i, n int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(probeWait))
	var b strings.Builder
	fmt.Fprintf(&b, "POST /store/c%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nv", i)
	for range n - 2 {
		fmt.Fprintf(&b, "GET /get/c%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
	}
	b.WriteString("GET /get/missing HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for j := range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("connection %d, answer %d: %v", i, j, err)
		}
		io.Copy(io.Discard, resp.Body)
		if want := map[bool]int{true: 404, false: 200}[j == n-1]; resp.StatusCode != want {
			t.Fatalf("connection %d, answer %d: status %d, want %d", i, j, resp.StatusCode, want)
		}
	}
}

// adminStats reads /stats from the admin listener, which no shard serves.
func adminStats(t *testing.T, admin string) shard.Stats {
	t.Helper()
	var st shard.Stats
	body := adminGet(t, admin, "/stats")
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("admin /stats: %v\n%s", err, body)
	}
	return st
}

func adminGet(t *testing.T, admin, path string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + admin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin GET %s: %d, %v", path, resp.StatusCode, err)
	}
	return body
}

// checkPromtool runs promtool check metrics on the admin listener's
// exposition, if promtool is installed (it comes with prometheus).
func checkPromtool(t *testing.T, admin string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed: exposition not linted")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(adminGet(t, admin, "/metrics"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// promServer is a prometheus process on a loopback port.
type promServer struct {
	url string
	out bytes.Buffer
}

// startPrometheus starts prometheus scraping target every 250 ms, with its
// storage in a temporary directory, and waits until it is ready.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\nscrape_configs:\n"+
		"  - job_name: corekv\n    static_configs:\n      - targets: ['%s']\n", target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := &promServer{url: "http://" + addr}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus logged:\n%s", &p.out)
		}
	})
	deadline := time.Now().Add(promWait)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, &p.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after %v\n%s", promWait, &p.out)
		}
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// vector runs an instant query and returns its result by the value of
// its shard label ("" for a series without one).
func (p *promServer) vector(t *testing.T, query string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" || r.Data.ResultType != "vector" {
		t.Fatalf("query %s: %v, status %q %s, result type %q", query, err, r.Status, r.Error, r.Data.ResultType)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		v, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		if err != nil {
			t.Fatalf("query %s: value %v: %v", query, s.Value[1], err)
		}
		out[s.Metric["shard"]] = v
	}
	return out
}

// waitVector runs the query until it returns want (Prometheus has scraped
// everything sent) or promWait passes, and returns its last result.
func (p *promServer) waitVector(t *testing.T, query string, want map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(promWait)
	for {
		got := p.vector(t, query)
		if maps.Equal(got, want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}
