package metrics

import (
	"bytes"
	"math"
	"os/exec"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestBucket(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int
	}{
		{"negative", -time.Second, 0},
		{"zero", 0, 0},
		{"at the first bound", 10 * time.Microsecond, 0},
		{"just past it", 10*time.Microsecond + 1, 1},
		{"1 ms", time.Millisecond, 6},
		{"at the last bound", time.Second, len(Bounds) - 1},
		{"past the last bound", time.Second + 1, len(Bounds)},
		{"an hour", time.Hour, len(Bounds)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bucket(tc.in); got != tc.want {
				t.Errorf("bucket(%v) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestStatusIndex(t *testing.T) {
	for i, code := range statusCodes[1:] {
		n, _ := strconv.Atoi(code)
		if got := statusIndex(n); got != i+1 {
			t.Errorf("statusIndex(%d) = %d, want %d", n, got, i+1)
		}
	}
	for _, code := range []int{0, 100, 201, 302, 418, 599} {
		if got := statusIndex(code); got != 0 {
			t.Errorf("statusIndex(%d) = %d, want 0 (other)", code, got)
		}
	}
}

func TestMethodOf(t *testing.T) {
	tests := []struct {
		in   string
		want Method
	}{
		{"GET", MethodGet}, {"HEAD", MethodHead}, {"POST", MethodPost}, {"PUT", MethodPut},
		{"DELETE", MethodDelete}, {"get", MethodOther}, {"PATCH", MethodOther}, {"", MethodOther},
	}
	for _, tc := range tests {
		if got := MethodOf(tc.in); got != tc.want {
			t.Errorf("MethodOf(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestCountingAllocs guards the hot path: counting allocates nothing.
func TestCountingAllocs(t *testing.T) {
	s := new(Shard)
	allocs := testing.AllocsPerRun(100, func() {
		s.Loop.Request(RouteGet, MethodOf("GET"), 200, HTTP11)
		s.Loop.Observe(120 * time.Microsecond)
		s.Loop.Lookup(true)
		s.Loop.Received(100)
		s.Loop.Sent(200)
		s.Shared.Request(RouteStore, MethodPut, 507, HTTP2)
		s.Shared.Observe(3 * time.Millisecond)
		s.Shared.Stream()
	})
	if allocs != 0 {
		t.Errorf("counting a request: %v allocations, want 0", allocs)
	}
}

func TestSnapshotSumsBothHalves(t *testing.T) {
	s := new(Shard)
	s.Loop.Request(RouteGet, MethodGet, 200, HTTP11)
	s.Loop.Request(RouteGet, MethodGet, 200, HTTP11)
	s.Shared.Request(RouteGet, MethodGet, 200, HTTP11)
	s.Shared.Request(RouteDelete, MethodDelete, 204, HTTP2)
	s.Loop.Accepted()
	s.Shared.Accepted()
	c := s.Snapshot()
	if got := c.requests[RouteGet][MethodGet][statusIndex(200)][HTTP11]; got != 3 {
		t.Errorf("GET 200 HTTP/1.1 = %d, want 3", got)
	}
	if got := c.Requests(); got != 4 {
		t.Errorf("Requests() = %d, want 4", got)
	}
	if got := c.Accepts(); got != 2 {
		t.Errorf("Accepts() = %d, want 2", got)
	}
}

// scrapeTwo is a two-shard scrape with known counts.
func scrapeTwo() *Scrape {
	a, b := new(Shard), new(Shard)
	for range 5 {
		a.Loop.Request(RouteGet, MethodGet, 200, HTTP11)
		a.Loop.Lookup(true)
	}
	a.Loop.Request(RouteGet, MethodHead, 404, HTTP10)
	a.Loop.Lookup(false)
	a.Loop.Observe(5 * time.Microsecond)
	a.Loop.Observe(30 * time.Microsecond)
	a.Loop.ObserveN(2*time.Second, 1)
	a.Loop.Received(1000)
	a.Loop.Sent(3000)
	a.Loop.TimedOut(TimeoutRead)
	a.Loop.Paused(PauseMaxConns)
	b.Shared.Request(RouteStore, MethodPut, 200, HTTP2)
	b.Shared.Observe(time.Millisecond)
	b.Shared.Stream()
	b.Shared.Reset()
	b.Shared.SlotWait()
	return &Scrape{
		Engine: "loop",
		Shards: []ShardScrape{
			{Labels: Labels{Shard: 0, CPU: 2, Core: 1, Package: 0, Node: 0}, Counts: a.Snapshot(), Open: 3, InFlight: 1, Pinned: true},
			{Labels: Labels{Shard: 1, CPU: 5, Core: 2, Package: 1, Node: 1}, Counts: b.Snapshot(), Open: 1,
				HTTP2: H2Counts{Streams: 2, Resets: 1, Refused: 3, Errors: 4}},
		},
		Store: Store{Items: 7, Bytes: 700, Memory: []NodeBytes{{-1, 0}, {0, 4 << 20}, {1, 8 << 20}}, Evictions: 2, Expirations: 1},
	}
}

func parse(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse the exposition: %v\n%s", err, text)
	}
	return mfs
}

// value returns the value of the sample of family name whose labels
// include want, and whether there is exactly one.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	var found []float64
	for _, m := range mf.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			found = append(found, m.Counter.GetValue())
		case m.Gauge != nil:
			found = append(found, m.Gauge.GetValue())
		case m.Histogram != nil:
			found = append(found, float64(m.Histogram.GetSampleCount()))
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, scrapeTwo()); err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, buf.Bytes())
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"corekv_requests_total", map[string]string{"shard": "0", "cpu": "2", "node": "0", "route": "get", "method": "GET", "status": "200", "proto": "HTTP/1.1"}, 5},
		{"corekv_requests_total", map[string]string{"shard": "0", "route": "get", "method": "HEAD", "status": "404", "proto": "HTTP/1.0"}, 1},
		{"corekv_requests_total", map[string]string{"shard": "1", "cpu": "5", "node": "1", "route": "store", "method": "PUT", "status": "200", "proto": "HTTP/2.0"}, 1},
		{"corekv_request_duration_seconds", map[string]string{"shard": "0"}, 3},
		{"corekv_request_duration_seconds", map[string]string{"shard": "1"}, 1},
		{"corekv_shard_info", map[string]string{"shard": "1", "core": "2", "package": "1", "engine": "loop", "pinned": "false"}, 1},
		{"corekv_connections_open", map[string]string{"shard": "0"}, 3},
		{"corekv_connections_timeouts_total", map[string]string{"shard": "0", "timeout": "read"}, 1},
		{"corekv_connections_timeouts_total", map[string]string{"shard": "0", "timeout": "idle"}, 0},
		{"corekv_accept_pauses_total", map[string]string{"shard": "0", "reason": "max_conns"}, 1},
		{"corekv_requests_in_flight", map[string]string{"shard": "0"}, 1},
		{"corekv_slot_waits_total", map[string]string{"shard": "1"}, 1},
		{"corekv_http2_streams_total", map[string]string{"shard": "1"}, 3},
		{"corekv_http2_resets_total", map[string]string{"shard": "1"}, 2},
		{"corekv_http2_refused_streams_total", map[string]string{"shard": "1"}, 3},
		{"corekv_http2_connection_errors_total", map[string]string{"shard": "1"}, 4},
		{"corekv_received_bytes_total", map[string]string{"shard": "0"}, 1000},
		{"corekv_sent_bytes_total", map[string]string{"shard": "0"}, 3000},
		{"corekv_store_hits_total", map[string]string{"shard": "0"}, 5},
		{"corekv_store_misses_total", map[string]string{"shard": "0"}, 1},
		{"corekv_store_items", nil, 7},
		{"corekv_store_bytes", nil, 700},
		{"corekv_store_memory_bytes", map[string]string{"node": "1"}, 8 << 20},
		{"corekv_store_memory_bytes", map[string]string{"node": "none"}, 0},
		{"corekv_store_evictions_total", nil, 2},
		{"corekv_store_expirations_total", nil, 1},
	}
	for _, tc := range tests {
		got, ok := value(mfs, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found: %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if n := len(mfs["corekv_requests_total"].Metric); n != 3 {
		t.Errorf("corekv_requests_total has %d series, want 3: only the non-zero ones", n)
	}
}

func TestWriteTextHistogram(t *testing.T) {
	var buf bytes.Buffer
	WriteText(&buf, scrapeTwo())
	mfs := parse(t, buf.Bytes())
	var h *dto.Histogram
	for _, m := range mfs["corekv_request_duration_seconds"].Metric {
		if m.Label[0].GetValue() == "0" {
			h = m.Histogram
		}
	}
	if h == nil {
		t.Fatal("no histogram for shard 0")
	}
	// 5 µs and 30 µs and 2 s: one at or below 10 µs, two at or below
	// 50 µs and 1 s, the third only in +Inf.
	want := map[float64]uint64{10e-6: 1, 25e-6: 1, 50e-6: 2, 1: 2, math.Inf(1): 3}
	for _, b := range h.Bucket {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%g = %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if len(h.Bucket) != len(Bounds)+1 {
		t.Errorf("%d buckets, want %d and +Inf", len(h.Bucket), len(Bounds))
	}
	if got, want := h.GetSampleSum(), 2.000035; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("sum = %v, want %v", got, want)
	}
}

func TestWriteTextWithoutNodes(t *testing.T) {
	s := scrapeTwo()
	s.Store.Memory = nil
	var buf bytes.Buffer
	WriteText(&buf, s)
	if mf := parse(t, buf.Bytes())["corekv_store_memory_bytes"]; mf != nil {
		t.Errorf("corekv_store_memory_bytes written for a store that maps no memory: %v", mf)
	}
}

// TestPromtool runs Prometheus's own linter over the whole exposition.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: prometheus); scripts/test.sh installs it")
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, scrapeTwo()); err != nil {
		t.Fatal(err)
	}
	if err := NewRuntime().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestSnapshotWhileCounting reads a shard's counters while its loop
// thread counts with plain adds: every snapshot is at least the one
// before, and the last one sees every count. Run with -race, it checks
// that Snapshot's reads are hidden from the race detector and the
// Shared half's are not needed to be.
func TestSnapshotWhileCounting(t *testing.T) {
	const n = 20000
	s := new(Shard)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			s.Loop.Request(RouteGet, MethodGet, 200, HTTP11)
			s.Shared.Stream()
		}
	}()
	var last uint64
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		c := s.Snapshot()
		got := c.Requests()
		if got < last {
			t.Fatalf("Requests() went from %d back to %d", last, got)
		}
		last = got
	}
	c := s.Snapshot()
	if c.Requests() != n || c.streams != n {
		t.Errorf("after %d requests: Requests() = %d, streams = %d", n, c.Requests(), c.streams)
	}
}
