package loadgen

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/corekv/corekv/bench/internal/proccpu"
	"github.com/corekv/corekv/bench/internal/workload"
)

func TestZZMeasure(t *testing.T) {
	addr := os.Getenv("LOADGEN_TARGET")
	if addr == "" {
		t.Skip()
	}
	streams, _ := strconv.Atoi(os.Getenv("LOADGEN_STREAMS"))
	conns, _ := strconv.Atoi(os.Getenv("LOADGEN_CONNS"))
	rate, _ := strconv.ParseFloat(os.Getenv("LOADGEN_RATE"), 64)
	proto := Proto(os.Getenv("LOADGEN_PROTO"))
	block := os.Getenv("LOADGEN_BLOCK") != ""
	cfg := Config{Addr: addr, Proto: proto, Conns: conns, Streams: streams, Block: block, Pipeline: streams}
	ro := os.Getenv("LOADGEN_READONLY") != ""
	wc := workload.Config{}
	if ro {
		wc.ReadRatio = 1
	}
	w, _ := workload.New(wc)
	if os.Getenv("LOADGEN_NOPRELOAD") == "" {
		if err := Preload(context.Background(), cfg, w); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		c0, _ := proccpu.Process(os.Getpid())
		t0 := time.Now()
		res, err := Run(context.Background(), cfg, w, Step{Rate: rate, Duration: 2 * time.Second}, 1)
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := proccpu.Process(os.Getpid())
		runtime.ReadMemStats(&m1)
		t.Logf("allocs/req %.2f", float64(m1.Mallocs-m0.Mallocs)/float64(res.Completed))
		wall := time.Since(t0)
		t.Logf("%s conns %d streams %d: %.0f req/s, errors %d, client CPU %.2f µs/req (%.0f%% of wall), busy %.2f µs/req, p50 %v", proto, conns, streams,
			res.Throughput(), res.Errors.Total(), float64((c1-c0).Microseconds())/float64(res.Completed), 100*(c1-c0).Seconds()/wall.Seconds(),
			float64(res.Busy.Microseconds())/float64(res.Completed), time.Duration(res.All().ValueAtQuantile(50)))
	}
}
