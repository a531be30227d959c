package metrics

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The hot path: what one request costs to count (its route, method, status
// and protocol, its latency, a store hit, its bytes in and out), per
// shard: with Counters (plain adds by the owning thread) and Shared
// (atomic adds), both in the shard's own padded memory, and with the two
// libraries, a shard label on each series. Serial is one shard; parallel is one shard per goroutine,
// as the shards run on their own threads.

// recorder counts one request for one shard.
type recorder func(lat time.Duration)

// recorders returns, for each way of counting, a function that makes
// shard i's recorder.
func recorders() []struct {
	name string
	make func(i int) recorder
} {
	vmSet := vm.NewSet()
	reg := prometheus.NewRegistry()
	reqVec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corekv_requests_total", Help: "h"},
		[]string{"shard", "route", "method", "status", "proto"})
	latVec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "corekv_request_duration_seconds", Help: "h", Buckets: boundsSeconds()},
		[]string{"shard"})
	inVec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corekv_received_bytes_total", Help: "h"}, []string{"shard"})
	outVec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corekv_sent_bytes_total", Help: "h"}, []string{"shard"})
	hitsVec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corekv_store_hits_total", Help: "h"}, []string{"shard"})
	reg.MustRegister(reqVec, latVec, inVec, outVec, hitsVec)
	return []struct {
		name string
		make func(i int) recorder
	}{
		{"shard-plain", func(int) recorder {
			c := &new(Shard).Loop
			return func(lat time.Duration) {
				c.Request(RouteGet, MethodGet, 200, HTTP11)
				c.Observe(lat)
				c.Lookup(true)
				c.Received(80)
				c.Sent(180)
			}
		}},
		{"shard-atomic", func(int) recorder {
			c := &new(Shard).Shared
			return func(lat time.Duration) {
				c.Request(RouteGet, MethodGet, 200, HTTP11)
				c.Observe(lat)
				c.Lookup(true)
				c.Received(80)
				c.Sent(180)
			}
		}},
		{"victoriametrics", func(i int) recorder {
			sh := strconv.Itoa(i)
			req := vmSet.GetOrCreateCounter(`corekv_requests_total{shard="` + sh + `",route="get",method="GET",status="200",proto="HTTP/1.1"}`)
			lat := vmSet.GetOrCreatePrometheusHistogramExt(`corekv_request_duration_seconds{shard="`+sh+`"}`, boundsSeconds())
			in := vmSet.GetOrCreateCounter(`corekv_received_bytes_total{shard="` + sh + `"}`)
			out := vmSet.GetOrCreateCounter(`corekv_sent_bytes_total{shard="` + sh + `"}`)
			hits := vmSet.GetOrCreateCounter(`corekv_store_hits_total{shard="` + sh + `"}`)
			return func(d time.Duration) {
				req.Inc()
				hits.Inc()
				lat.Update(d.Seconds())
				in.Add(80)
				out.Add(180)
			}
		}},
		{"victoriametrics-by-name", func(i int) recorder {
			// The library's idiom: the series looked up by its name.
			sh := strconv.Itoa(i)
			reqName := `corekv_requests_total{shard="` + sh + `",route="get",method="GET",status="200",proto="HTTP/1.1"}`
			latName := `corekv_request_duration_seconds{shard="` + sh + `"}`
			inName, outName := `corekv_received_bytes_total{shard="`+sh+`"}`, `corekv_sent_bytes_total{shard="`+sh+`"}`
			hitsName := `corekv_store_hits_total{shard="` + sh + `"}`
			return func(d time.Duration) {
				vmSet.GetOrCreateCounter(reqName).Inc()
				vmSet.GetOrCreateCounter(hitsName).Inc()
				vmSet.GetOrCreatePrometheusHistogramExt(latName, boundsSeconds()).Update(d.Seconds())
				vmSet.GetOrCreateCounter(inName).Add(80)
				vmSet.GetOrCreateCounter(outName).Add(180)
			}
		}},
		{"client_golang", func(i int) recorder {
			sh := strconv.Itoa(i)
			req := reqVec.WithLabelValues(sh, "get", "GET", "200", "HTTP/1.1")
			lat := latVec.WithLabelValues(sh)
			in, out, hits := inVec.WithLabelValues(sh), outVec.WithLabelValues(sh), hitsVec.WithLabelValues(sh)
			return func(d time.Duration) {
				req.Inc()
				hits.Inc()
				lat.Observe(d.Seconds())
				in.Add(80)
				out.Add(180)
			}
		}},
		{"client_golang-by-labels", func(i int) recorder {
			// The library's idiom: the series looked up by its labels.
			sh := strconv.Itoa(i)
			return func(d time.Duration) {
				reqVec.WithLabelValues(sh, "get", "GET", "200", "HTTP/1.1").Inc()
				hitsVec.WithLabelValues(sh).Inc()
				latVec.WithLabelValues(sh).Observe(d.Seconds())
				inVec.WithLabelValues(sh).Add(80)
				outVec.WithLabelValues(sh).Add(180)
			}
		}},
	}
}

func boundsSeconds() []float64 {
	b := make([]float64, len(Bounds))
	for i, d := range Bounds {
		b[i] = d.Seconds()
	}
	return b
}

// latencies are typical request latencies, cycled through.
var latencies = [8]time.Duration{30e3, 80e3, 120e3, 95e3, 300e3, 60e3, 2e6, 45e3}

func BenchmarkHotPath(b *testing.B) {
	for _, r := range recorders() {
		b.Run(r.name+"/serial", func(b *testing.B) {
			rec := r.make(0)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				rec(latencies[i&7])
			}
		})
		b.Run(r.name+"/parallel", func(b *testing.B) {
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rec := r.make(int(next.Add(1)))
				for i := 0; pb.Next(); i++ {
					rec(latencies[i&7])
				}
			})
		})
	}
}

// The scrape path: exposing scrapeShards shards, each with the series a
// mixed load leaves non-zero, with each library against WriteText.

const scrapeShards = 64

// loadSeries are the request label sets a mixed load makes non-zero.
var loadSeries = []struct {
	route  Route
	method Method
	status int
}{
	{RouteGet, MethodGet, 200}, {RouteGet, MethodGet, 404}, {RouteGet, MethodHead, 200},
	{RouteStore, MethodPost, 200}, {RouteStore, MethodPut, 200}, {RouteStore, MethodPost, 413},
	{RouteDelete, MethodDelete, 204}, {RouteDelete, MethodDelete, 404}, {RouteHello, MethodGet, 200},
	{RouteStats, MethodGet, 200}, {RouteNone, MethodGet, 404}, {RouteNone, MethodOther, 400},
}

func scrapeOwn() *Scrape {
	s := &Scrape{Engine: "loop"}
	for i := range scrapeShards {
		c := new(Shard)
		for j, ls := range loadSeries {
			for range j + 1 {
				c.Loop.Request(ls.route, ls.method, ls.status, HTTP11)
			}
			c.Loop.Observe(latencies[j&7])
		}
		s.Shards = append(s.Shards, ShardScrape{Labels: Labels{Shard: i, CPU: i, Node: i / 32}, Counts: c.Snapshot()})
	}
	return s
}

func BenchmarkScrape(b *testing.B) {
	b.Run("shard-text", func(b *testing.B) {
		s := scrapeOwn()
		benchScrape(b, func(w io.Writer) { WriteText(w, s) })
	})
	b.Run("victoriametrics", func(b *testing.B) {
		set := vm.NewSet()
		for i := range scrapeShards {
			for j, ls := range loadSeries {
				set.GetOrCreateCounter(fmt.Sprintf(`corekv_requests_total{shard="%d",cpu="%d",node="%d",route="%s",method="%s",status="%d",proto="HTTP/1.1"}`,
					i, i, i/32, routeNames[ls.route], methodNames[ls.method], ls.status)).Add(j + 1)
			}
			h := set.NewPrometheusHistogramExt(fmt.Sprintf(`corekv_request_duration_seconds{shard="%d",cpu="%d",node="%d"}`, i, i, i/32), boundsSeconds())
			for j := range loadSeries {
				h.Update(latencies[j&7].Seconds())
			}
		}
		benchScrape(b, func(w io.Writer) { set.WritePrometheus(w) })
	})
	b.Run("client_golang", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "corekv_requests_total", Help: "h"},
			[]string{"shard", "cpu", "node", "route", "method", "status", "proto"})
		lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "corekv_request_duration_seconds", Help: "h", Buckets: boundsSeconds()},
			[]string{"shard", "cpu", "node"})
		reg.MustRegister(req, lat)
		for i := range scrapeShards {
			sh, node := strconv.Itoa(i), strconv.Itoa(i/32)
			for j, ls := range loadSeries {
				req.WithLabelValues(sh, sh, node, routeNames[ls.route], methodNames[ls.method], strconv.Itoa(ls.status), "HTTP/1.1").Add(float64(j + 1))
				lat.WithLabelValues(sh, sh, node).Observe(latencies[j&7].Seconds())
			}
		}
		benchScrape(b, func(w io.Writer) { gatherText(w, reg) })
	})
}

// BenchmarkProcess compares the Go runtime and process metrics of the
// two libraries.
func BenchmarkProcess(b *testing.B) {
	b.Run("victoriametrics", func(b *testing.B) {
		benchScrape(b, vm.WriteProcessMetrics)
	})
	b.Run("client_golang", func(b *testing.B) {
		r := NewRuntime()
		benchScrape(b, func(w io.Writer) { r.WriteText(w) })
	})
}

func gatherText(w io.Writer, g prometheus.Gatherer) {
	mfs, err := g.Gather()
	if err != nil {
		panic(err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			panic(err)
		}
	}
}

func benchScrape(b *testing.B, write func(io.Writer)) {
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		write(&buf)
	}
	b.ReportMetric(float64(buf.Len()), "bytes/scrape")
}
