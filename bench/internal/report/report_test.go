package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/corekv/corekv/bench/internal/loadgen"
)

// fixture builds a report of two configurations, five rounds each, over
// one closed and one open step, from per-round throughputs; every other
// figure is derived from the throughput, so it moves with it.
func fixture(base, other []float64) *Report {
	r := &Report{
		Machine:  Machine{CPUModel: "Test CPU", CPUs: 2, ServerCPUs: "1", ClientCPUs: "0"},
		Settings: Settings{Keys: 10, ReadRatio: 0.8, ValueSize: 100, KeyDist: "uniform", Connections: 4, Repeat: len(base)},
		Configs:  []Config{{Label: "pinned", Args: []string{"--pin-cores"}, Proto: "h1"}, {Label: "unpinned", Proto: "h1"}},
		Steps:    []Step{{Rate: 0, DurationS: 1}, {Rate: 1000, DurationS: 1}},
	}
	for i := range base {
		for cfg, tput := range []float64{base[i], other[i]} {
			rd := Round{Config: cfg, Round: i + 1, GOMAXPROCS: 1}
			for step := range r.Steps {
				rd.Measurements = append(rd.Measurements, Measurement{
					Step: step, Throughput: tput, Completed: int64(tput),
					Latency:         Latency{P50: 1e6 / tput, P99: 2e6 / tput, P999: 3e6 / tput},
					ServerCPUPerReq: 1e6 / tput,
					Status:          OK,
				})
			}
			r.Rounds = append(r.Rounds, rd)
		}
	}
	r.Summarize()
	return r
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestSummarizeMedianAndRange(t *testing.T) {
	r := fixture([]float64{100, 300, 200, 500, 400}, []float64{10, 20, 40, 30, 1000})
	for step := range r.Steps {
		for cfg, want := range []Stat{{N: 5, Median: 300, Min: 100, Max: 500}, {N: 5, Median: 30, Min: 10, Max: 1000}} {
			s, ok := r.Lookup(step, cfg)
			if !ok {
				t.Fatalf("no summary for step %d config %d", step, cfg)
			}
			got := s.Stats["throughput"]
			if got.N != want.N || got.Median != want.Median || got.Min != want.Min || got.Max != want.Max {
				t.Errorf("step %d config %d throughput = %+v, want median %v [%v–%v] of %d", step, cfg, got, want.Median, want.Min, want.Max, want.N)
			}
			if s.Statuses[OK] != 5 {
				t.Errorf("step %d config %d statuses = %v, want 5 ok", step, cfg, s.Statuses)
			}
		}
	}
}

func TestMedianEven(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{7}, 7},
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRatiosAndSignificance(t *testing.T) {
	tests := []struct {
		name        string
		base, other []float64
		wantRatio   float64 // of throughput
		wantSig     bool
		wantP       float64 // 0: only check below/above 0.05
	}{
		// Completely separated samples of 5 and 5: the smallest p a
		// two-sided Mann-Whitney U test can give, 2/252.
		{"twice as fast", []float64{100, 101, 102, 103, 104}, []float64{200, 202, 204, 206, 208}, 2.04 / 1.02, true, 2.0 / 252},
		{"interleaved", []float64{100, 102, 104, 106, 108}, []float64{101, 103, 105, 107, 109}, 105.0 / 104, false, 0},
		{"identical", []float64{5, 5, 5, 5, 5}, []float64{5, 5, 5, 5, 5}, 1, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fixture(tc.base, tc.other)
			s, _ := r.Lookup(1, 1)
			got := s.Stats["throughput"]
			if !near(got.Ratio, tc.wantRatio) || got.Significant != tc.wantSig {
				t.Errorf("throughput vs first = ratio %v significant %v (p=%v), want %v %v", got.Ratio, got.Significant, got.P, tc.wantRatio, tc.wantSig)
			}
			if tc.wantP != 0 && math.Abs(got.P-tc.wantP) > 1e-4 {
				t.Errorf("p = %v, want %v", got.P, tc.wantP)
			}
			// Latency moves against throughput: its ratio is the inverse.
			if lat := s.Stats["p50"]; !near(lat.Ratio, 1/tc.wantRatio) || lat.Significant != tc.wantSig {
				t.Errorf("p50 vs first = ratio %v significant %v, want %v %v", lat.Ratio, lat.Significant, 1/tc.wantRatio, tc.wantSig)
			}
			base, _ := r.Lookup(1, 0)
			if b := base.Stats["throughput"]; b.Ratio != 1 || b.Significant {
				t.Errorf("first configuration vs itself = %+v, want ratio 1, not significant", b)
			}
		})
	}
}

func TestClientBoundRoundsLeftOut(t *testing.T) {
	r := fixture([]float64{100, 100, 100, 100, 100}, []float64{50, 50, 50, 50, 50})
	// The second configuration's last two rounds fell behind at the open
	// step, one busy, one stalled.
	for i := range r.Rounds {
		if r.Rounds[i].Config == 1 && r.Rounds[i].Round >= 4 {
			r.Rounds[i].Measurements[1].Status = ClientBound
			if r.Rounds[i].Round == 5 {
				r.Rounds[i].Measurements[1].Status = ClientStalled
			}
			r.Rounds[i].Measurements[1].Throughput = 1
		}
	}
	r.Summarize()
	s, _ := r.Lookup(1, 1)
	if got := s.Stats["throughput"]; got.N != 3 || got.Min != 50 {
		t.Errorf("with 2 rounds not measuring the server throughput = %+v, want 3 rounds, all 50", got)
	}
	if s.Statuses[ClientBound] != 1 || s.Statuses[ClientStalled] != 1 || s.Statuses[OK] != 3 {
		t.Errorf("statuses = %v, want 1 client-bound, 1 client-stalled and 3 ok", s.Statuses)
	}
	if closed, _ := r.Lookup(0, 1); closed.Stats["throughput"].N != 5 {
		t.Errorf("closed step kept %d rounds, want 5", closed.Stats["throughput"].N)
	}
}

func TestWriteTable(t *testing.T) {
	r := fixture([]float64{100e3, 101e3, 102e3, 103e3, 104e3}, []float64{200e3, 202e3, 204e3, 206e3, 208e3})
	r.Rounds[3].Measurements[1].Errors = loadgen.Errors{Wrong: 2}
	r.Rounds[3].Measurements[1].FirstError = `wrong value for "key3"`
	r.Summarize()
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Test CPU, 2 CPUs",
		"closed loop, 1s:",
		"open loop at 1,000 req/s, 1s:",
		"pinned  ", "unpinned",
		"102k [100k–104k]",
		"204k [200k–208k]",
		"×2.00 p=0.008 *",
		"×0.50 p=0.008 *",
		`unpinned round 2 step 2: 2 failed requests`,
		`first: wrong value for "key3"`,
		"!! 2 failed requests in all",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteCSVAndJSON(t *testing.T) {
	r := fixture([]float64{1, 2, 3}, []float64{4, 5, 6})
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// A header, then 2 configurations × 3 rounds × 2 steps.
	if len(rows) != 1+12 || len(rows[1]) != len(roundColumns) {
		t.Fatalf("CSV has %d rows of %d columns, want 13 of %d", len(rows), len(rows[1]), len(roundColumns))
	}
	if rows[1][0] != "pinned" || rows[1][3] != "closed" || rows[2][3] != "open" || rows[2][4] != "1000" {
		t.Errorf("first rows %v %v, want pinned's closed then open at 1000", rows[1][:5], rows[2][:5])
	}
	b.Reset()
	if err := r.WriteSummaryCSV(&b); err != nil {
		t.Fatal(err)
	}
	if rows, _ := csv.NewReader(&b).ReadAll(); len(rows) != 1+2*2*len(metrics) {
		t.Errorf("summary CSV has %d rows, want %d", len(rows), 1+2*2*len(metrics))
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rounds) != 6 || len(back.Summary) != 4 || back.Summary[3].Stats["throughput"].Median != 5 {
		t.Errorf("JSON round trip: %d rounds, %d summaries, want 6 and 4 with the medians", len(back.Rounds), len(back.Summary))
	}
}

func TestSummarizeHistogram(t *testing.T) {
	h := hdrhistogram.New(1, int64(math.MaxInt32), 3)
	for i := int64(1); i <= 1000; i++ {
		h.RecordValue(i * 1000) // 1µs to 1ms
	}
	got := Summarize(h)
	if got.Count != 1000 || math.Abs(got.P50-500) > 1 || math.Abs(got.P99-990) > 1 || math.Abs(got.Max-1000) > 1 {
		t.Errorf("Summarize(1µs..1ms) = %+v, want p50 500µs, p99 990µs, max 1000µs", got)
	}
	if empty := Summarize(hdrhistogram.New(1, 10, 1)); empty != (Latency{}) {
		t.Errorf("Summarize(empty) = %+v, want zero", empty)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1.00k"}, {98123, "98.1k"}, {123456, "123k"}, {999_700, "1.00M"}, {2.5e6, "2.50M"}}
	for _, tc := range tests {
		if got := formatCount(tc.in); got != tc.want {
			t.Errorf("formatCount(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for in, want := range map[float64]string{5: "5", 1000: "1,000", 12500: "12,500", 1234567: "1,234,567"} {
		if got := formatThousands(in); got != want {
			t.Errorf("formatThousands(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestLoopShareOnlyWhereMeasured: a configuration without event loops
// (share 0) gets no loop CPU figure, not a 0%.
func TestLoopShareOnlyWhereMeasured(t *testing.T) {
	r := fixture([]float64{100, 200, 300}, []float64{100, 200, 300})
	for i := range r.Rounds {
		if r.Rounds[i].Config == 0 {
			for j := range r.Rounds[i].Measurements {
				r.Rounds[i].Measurements[j].LoopShare = 0.9 + 0.01*float64(i)
			}
		}
	}
	r.Summarize()
	loop, _ := r.Lookup(0, 0)
	std, _ := r.Lookup(0, 1)
	if got := loop.Stats["loop_share"]; got.N != 3 || !near(got.Median, 0.92) {
		t.Errorf("loop_share with loops = %+v, want the median 0.92 of 3", got)
	}
	if got := std.Stats["loop_share"]; got.N != 0 {
		t.Errorf("loop_share without loops = %+v, want none", got)
	}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "loop CPU") || !strings.Contains(b.String(), "92% [90%–94%]") {
		t.Errorf("table lacks the loop CPU column or its figure:\n%s", &b)
	}
}
