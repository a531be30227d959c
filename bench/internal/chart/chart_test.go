package chart

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/corekv/corekv/bench/internal/report"
)

func fixture() *report.Report {
	r := &report.Report{
		Machine:  report.Machine{CPUModel: "Test CPU", CPUs: 2, ServerCPUs: "1", ClientCPUs: "0"},
		Settings: report.Settings{Repeat: 3},
		Configs:  []report.Config{{Label: "a", Proto: "h1"}, {Label: "b", Proto: "h2c"}},
		Steps:    []report.Step{{Rate: 0, DurationS: 1}, {Rate: 1000, DurationS: 1}, {Rate: 5000, DurationS: 1}, {Rate: 9000, DurationS: 1}},
	}
	for round := 1; round <= 3; round++ {
		for cfg := range r.Configs {
			rd := report.Round{Config: cfg, Round: round}
			for step, st := range r.Steps {
				m := report.Measurement{Step: step, Throughput: st.Rate*0.99 + float64(round), Status: report.OK,
					Latency: report.Latency{P50: 50 + float64(10*cfg+round), P99: 200 * float64(step+1)}, ServerCPUPerReq: 10 + float64(cfg)}
				if cfg == 1 && step == 3 {
					m.Status = report.ClientBound
				}
				rd.Measurements = append(rd.Measurements, m)
			}
			r.Rounds = append(r.Rounds, rd)
		}
	}
	r.Summarize()
	return r
}

func TestPoints(t *testing.T) {
	r := fixture()
	c := charts[0] // p50
	a, b := c.points(r, 0), c.points(r, 1)
	// Config a: the three open steps; b: the last one was client-bound.
	if len(a) != 3 || len(b) != 2 {
		t.Fatalf("points: %d for a, %d for b, want 3 and 2 (closed and client-bound steps left out)", len(a), len(b))
	}
	want := point{rate: 1000, x: 990 + 2, y: 52, lo: 51, hi: 53}
	if a[0] != want {
		t.Errorf("a's first point = %+v, want %+v (medians, min–max bars)", a[0], want)
	}
	for i := 1; i < len(a); i++ {
		if a[i].rate <= a[i-1].rate {
			t.Errorf("points not in the order of the target rate: %+v", a)
		}
	}
	if lo, hi := a.YError(0); lo != 1 || hi != 1 {
		t.Errorf("YError(0) = %v, %v, want 1, 1 (relative to the median)", lo, hi)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	paths, err := Write(fixture(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(charts) {
		t.Fatalf("Write wrote %v, want %d charts", paths, len(charts))
	}
	for _, c := range charts {
		b, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", c.File, err)
		}
		if sz := img.Bounds().Size(); sz.X < 300 || sz.Y < 200 {
			t.Errorf("%s is %v, want a readable size", c.File, sz)
		}
	}
}

func TestWriteNothingToDraw(t *testing.T) {
	r := fixture()
	r.Steps = r.Steps[:1] // closed loop only
	r.Summarize()
	if paths, err := Write(r, t.TempDir()); err != nil || len(paths) != 0 {
		t.Errorf("Write of a report without open-loop steps = %v, %v, want nothing and no error", paths, err)
	}
}
