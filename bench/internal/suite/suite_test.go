package suite

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corekv/corekv/bench/internal/loadgen"
	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/topology"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Spec
		wantErr string
	}{
		{"pinned", "pinned=--pin-cores", Spec{Label: "pinned", Args: []string{"--pin-cores"}}, ""},
		{"no args", "unpinned=", Spec{Label: "unpinned"}, ""},
		{"several args", "std= --engine=std  --shards 1 ", Spec{Label: "std", Args: []string{"--engine=std", "--shards", "1"}}, ""},
		{"proto with =", "h2c=--proto=h2c --pin-cores", Spec{Label: "h2c", Args: []string{"--pin-cores"}, Proto: loadgen.H2C}, ""},
		{"proto spaced", "h2=--proto h2c", Spec{Label: "h2", Proto: loadgen.H2C}, ""},
		{"commas kept", "cpus=--cpus 0,1", Spec{Label: "cpus", Args: []string{"--cpus", "0,1"}}, ""},
		{"no equals", "pinned", Spec{}, `want label=server args`},
		{"empty label", "=--pin-cores", Spec{}, `want label=server args`},
		{"bad proto", "x=--proto=h3", Spec{}, `unknown protocol "h3"`},
		{"dangling proto", "x=--proto", Spec{}, `--proto needs a value`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec(%q) = %v, want an error containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Label != tc.want.Label || !slices.Equal(got.Args, tc.want.Args) || got.Proto != tc.want.Proto {
				t.Fatalf("ParseSpec(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
			}
			if back, err := ParseSpec(got.String()); err != nil || back.Label != got.Label || !slices.Equal(back.Args, got.Args) || back.Proto != got.Proto {
				t.Errorf("ParseSpec(%q.String() = %q) = %+v, %v, want it back", tc.in, got.String(), back, err)
			}
		})
	}
}

func TestSplitCPUs(t *testing.T) {
	smt := &topology.Machine{CPUs: []topology.CPU{ // 4 cores, 2 threads each: CPU n and n+4 share core n
		{ID: 0, Core: 0}, {ID: 1, Core: 1}, {ID: 2, Core: 2}, {ID: 3, Core: 3},
		{ID: 4, Core: 0}, {ID: 5, Core: 1}, {ID: 6, Core: 2}, {ID: 7, Core: 3},
	}}
	tests := []struct {
		name               string
		m                  *topology.Machine
		in                 []int
		wantClient, wantSv []int
	}{
		{"two CPUs, no topology", nil, []int{0, 1}, []int{0}, []int{1}},
		{"three CPUs", nil, []int{0, 1, 2}, []int{0}, []int{1, 2}},
		{"SMT siblings stay together", smt, []int{0, 1, 2, 3, 4, 5, 6, 7}, []int{0, 1, 4, 5}, []int{2, 3, 6, 7}},
		{"one core of two threads", smt, []int{0, 4}, []int{0, 4}, []int{0, 4}},
		{"one CPU", nil, []int{3}, []int{3}, []int{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, s := SplitCPUs(tc.m, tc.in)
			if !slices.Equal(c, tc.wantClient) || !slices.Equal(s, tc.wantSv) {
				t.Errorf("SplitCPUs(%v) = %v, %v, want %v, %v", tc.in, c, s, tc.wantClient, tc.wantSv)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	open := report.Step{Rate: 10000, DurationS: 1}
	tests := []struct {
		name   string
		step   report.Step
		sent   int64
		tput   float64
		lateUS float64
		client float64
		want   report.Status
	}{
		{"on time, kept up", open, 10000, 9990, 80, 0.4, report.OK},
		{"on time, a backlog of 4%", open, 10000, 9600, 80, 0.4, report.Saturated},
		{"closed loop", report.Step{DurationS: 1}, 5, 1, 1e6, 1, report.Closed},
		{"server fell behind, client idle", open, 10000, 7000, 80, 0.3, report.Saturated},
		{"backpressure made sends late, client idle", open, 10000, 7000, 50000, 0.3, report.Saturated},
		{"client busy and under rate", open, 9000, 8000, 20000, 0.97, report.ClientBound},
		{"late sends although answered", open, 10000, 9990, 5000, 0.5, report.ClientStalled},
		{"late sends, client busy", open, 10000, 9990, 5000, 0.95, report.ClientBound},
		{"too few sent", open, 9000, 9990, 10, 0.5, report.ClientStalled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &report.Measurement{Throughput: tc.tput, Lateness: report.Latency{P99: tc.lateUS}, ClientUtil: tc.client}
			if got := classify(tc.step, 10000, tc.sent, m, time.Millisecond); got != tc.want {
				t.Errorf("classify(%s) = %s, want %s", tc.name, got, tc.want)
			}
		})
	}
}

func TestRoundRate(t *testing.T) {
	for in, want := range map[float64]float64{0.4: 1, 7: 7, 12345: 12000, 98765: 99000, 150: 150, 1049: 1000} {
		if got := roundRate(in); got != want {
			t.Errorf("roundRate(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		wantErr string
	}{
		{"binary", Config{Bin: "corekv", Specs: []Spec{{Label: "a"}}}, ""},
		{"neither", Config{Specs: []Spec{{Label: "a"}}}, "need exactly one of a server binary and a target"},
		{"both", Config{Bin: "x", Target: "y:1", Specs: []Spec{{Label: "a"}}}, "need exactly one"},
		{"no specs", Config{Bin: "x"}, "no configuration to run"},
		{"duplicate label", Config{Bin: "x", Specs: []Spec{{Label: "a"}, {Label: "a"}}}, `label "a" used twice`},
		{"target with args", Config{Target: "y:1", Specs: []Spec{{Label: "a", Args: []string{"--pin-cores"}}}}, "does not start the target"},
		{"bad load", Config{Bin: "x", Specs: []Spec{{Label: "a"}}, Load: loadgen.Config{Conns: -1}}, "connections -1"},
		{"negative rate", Config{Bin: "x", Specs: []Spec{{Label: "a"}}, Rates: []float64{100, -1}}, "rate -1: want above 0 requests/s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestPlanSteps(t *testing.T) {
	tests := []struct {
		name      string
		in        Config
		wantRates []float64 // one step each; 0 is the closed loop
		wantErr   string
	}{
		{"closed and rates", Config{Rates: []float64{100, 200}}, []float64{0, 100, 200}, ""},
		{"rates only", Config{SkipClosed: true, Rates: []float64{50}}, []float64{50}, ""},
		{"no open loop", Config{NoOpenLoop: true, Rates: []float64{50}}, []float64{0}, ""},
		{"nothing", Config{SkipClosed: true, NoOpenLoop: true}, nil, "no steps to run: the closed loop is skipped and no rate is given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Duration = time.Second
			steps, err := planSteps(t.Context(), tc.in, &report.Report{})
			var rates []float64
			for _, s := range steps {
				rates = append(rates, s.Rate)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if !slices.Equal(rates, tc.wantRates) || gotErr != tc.wantErr {
				t.Errorf("planSteps(%+v) rates %v, %v; want %v, %q", tc.in, rates, err, tc.wantRates, tc.wantErr)
			}
		})
	}
}
