// Package chart draws a bench report's curves as PNG files: p50 and p99
// latency, and server CPU time per request, against achieved throughput,
// one line per configuration, with min–max bars over the rounds.
package chart

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/corekv/corekv/bench/internal/report"
)

// chartSpec is one figure: a report metric against throughput.
type chartSpec struct {
	File   string // file name in the output directory
	Metric string // a metric name of report.Summary.Stats
	Title  string
	YLabel string
	LogY   bool // else the axis starts at 0
	// LegendLeft puts the legend in the top left corner, else the top
	// right: where the curves are not (latency rises to the right, CPU
	// time per request falls).
	LegendLeft bool
}

// charts are the figures Write draws.
var charts = []chartSpec{
	{"latency-p50.png", "p50", "p50 latency vs throughput", "p50 latency (µs, log scale)", true, true},
	{"latency-p99.png", "p99", "p99 latency vs throughput", "p99 latency (µs, log scale)", true, true},
	{"cpu-per-request.png", "cpu_per_req", "server CPU time per request vs throughput", "server CPU (µs per request)", false, false},
}

// Write draws every chart of r's open-loop steps into dir and returns the
// paths written: none when no open-loop step has results. Steps a round
// ran client-bound or client-stalled are not server results and are left
// out (report.Summarize already drops them).
func Write(r *report.Report, dir string) ([]string, error) {
	var paths []string
	var errs []error
	for _, c := range charts {
		p, err := c.plot(r)
		if errors.Is(err, errNothing) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("chart %s: %w", c.File, err))
			continue
		}
		path := filepath.Join(dir, c.File)
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
			errs = append(errs, fmt.Errorf("save %s: %w", path, err))
			continue
		}
		paths = append(paths, path)
	}
	return paths, errors.Join(errs...)
}

// errNothing is plot's error when no configuration has a point.
var errNothing = errors.New("no open-loop step with results to draw")

// point is one step of one configuration: the target rate, the median
// throughput, and the metric's median, min and max.
type point struct{ rate, x, y, lo, hi float64 }

type series []point

func (s series) Len() int                        { return len(s) }
func (s series) XY(i int) (float64, float64)     { return s[i].x, s[i].y }
func (s series) YError(i int) (float64, float64) { return s[i].y - s[i].lo, s[i].hi - s[i].y }
func (c chartSpec) points(r *report.Report, cfg int) series {
	var s series
	for step, st := range r.Steps {
		if st.Rate == 0 {
			continue // closed loop: latency from the actual send, not comparable
		}
		sum, ok := r.Lookup(step, cfg)
		x, y := sum.Stats["throughput"], sum.Stats[c.Metric]
		if !ok || x.N == 0 || y.N == 0 || (c.LogY && y.Min <= 0) {
			continue
		}
		s = append(s, point{st.Rate, x.Median, y.Median, y.Min, y.Max})
	}
	// In the order of the offered load, not of the throughput: past
	// saturation the throughput falls back, and the line shows it.
	slices.SortFunc(s, func(a, b point) int { return cmp.Compare(a.rate, b.rate) })
	return s
}

func (c chartSpec) plot(r *report.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s\n%s, %d CPUs; server on CPUs %s, client on %s; median of %d rounds, bars min–max",
		c.Title, r.Machine.CPUModel, r.Machine.CPUs, r.Machine.ServerCPUs, r.Machine.ClientCPUs, r.Settings.Repeat)
	p.X.Label.Text = "achieved throughput (requests/s, open loop)"
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = true
	p.Legend.Left = c.LegendLeft
	p.Legend.XOffs = vg.Points(12) // clear of the axes and the top line
	if !c.LegendLeft {
		p.Legend.XOffs = -vg.Points(12)
	}
	p.Legend.YOffs = -vg.Points(6)
	p.Add(plotter.NewGrid())
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	} else {
		p.Y.Min = 0
	}
	drawn := 0
	for cfg, conf := range r.Configs {
		s := c.points(r, cfg)
		if len(s) == 0 {
			continue
		}
		line, dots, err := plotter.NewLinePoints(s)
		if err != nil {
			return nil, err
		}
		line.Color, dots.Color, dots.Shape = plotutil.Color(cfg), plotutil.Color(cfg), plotutil.Shape(cfg)
		line.Dashes = plotutil.Dashes(cfg)
		bars, err := plotter.NewYErrorBars(s)
		if err != nil {
			return nil, err
		}
		bars.Color = plotutil.Color(cfg)
		p.Add(line, dots, bars)
		p.Legend.Add(fmt.Sprintf("%s (%s)", conf.Label, conf.Proto), line, dots)
		drawn++
	}
	if drawn == 0 {
		return nil, errNothing
	}
	return p, nil
}
