package store

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The workloads of issue 11's memory table: keys stored once, then every
// key overwritten again in the same order.
var memWorkloads = []struct {
	name       string
	keys, size int
	passes     int
}{
	{"300k-x-1000B-4-writes", 300_000, 1000, 4},
	{"1M-x-100B-3-writes", 1_000_000, 100, 3},
}

// BenchmarkMemory reports peak resident memory divided by the key and
// value bytes stored (rss/stored), for the Cache and for the old
// lock-free map, each workload in a fresh process (this test binary run
// again), as the server would hold it: one writer, quiescent every 64
// writes. Run it with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	for _, w := range memWorkloads {
		for _, impl := range []string{"cache", "old-lockfree"} {
			b.Run(w.name+"/impl="+impl, func(b *testing.B) {
				for range b.N {
					hwm, stored := runMemChild(b, impl, w.name)
					b.ReportMetric(float64(hwm)/float64(stored), "rss/stored")
					b.ReportMetric(float64(hwm)/(1<<20), "peak-MiB")
				}
			})
		}
	}
}

// runMemChild runs TestMemoryChild in a new process and returns its peak
// RSS and the bytes it stored.
func runMemChild(b *testing.B, impl, workload string) (hwm, stored int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "COREKV_MEM_CHILD="+impl+","+workload)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MEM" {
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
			stored, _ = strconv.ParseInt(f[2], 10, 64)
			return hwm, stored
		}
	}
	b.Fatalf("child printed no MEM line:\n%s", out)
	return 0, 0
}

// TestMemoryChild is BenchmarkMemory's child; it does nothing otherwise.
func TestMemoryChild(t *testing.T) {
	spec := os.Getenv("COREKV_MEM_CHILD")
	if spec == "" {
		t.Skip("run by BenchmarkMemory")
	}
	impl, name, _ := strings.Cut(spec, ",")
	for _, w := range memWorkloads {
		if w.name != name {
			continue
		}
		var stored int64
		switch impl {
		case "cache":
			stored = fillCache(t, w.keys, w.size, w.passes)
		default:
			stored = fillOld(t, w.keys, w.size, w.passes)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("MEM %d %d\n", procStatus(t, "VmHWM"), stored)
		fmt.Printf("heap sys %d MiB inuse %d MiB, total sys %d MiB, rss %d MiB, numgc %d\n", ms.HeapSys>>20, ms.HeapInuse>>20, ms.Sys>>20, procStatus(t, "VmRSS")>>20, ms.NumGC)
	}
}

func fillCache(t *testing.T, keys, size, passes int) int64 {
	presize, _ := strconv.Atoi(os.Getenv("COREKV_MEM_PRESIZE"))
	c := newCache(t, Config{Presize: presize})
	sh := c.NewShard(-1)
	value := bytes.Repeat([]byte("v"), size) // the loop's read buffer
	key := make([]byte, 0, 32)
	for range passes {
		for i := range keys {
			if i%64 == 0 {
				sh.Quiescent(time.Now())
			}
			key = fmt.Appendf(key[:0], "key-%07d", i)
			if err := sh.Set(key, value, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := c.Stats()
	fmt.Printf("arena %d MiB, %d segments\n", st.ArenaBytes>>20, st.Segments)
	return c.Bytes()
}

func fillOld(t *testing.T, keys, size, passes int) int64 {
	s := newOldMap(1_000_000) // the old server's default --presize
	value := make([]byte, size)
	key := make([]byte, 0, 32)
	for range passes {
		for i := range keys {
			key = fmt.Appendf(key[:0], "key-%07d", i)
			if err := s.Set(key, value); err != nil { // a new slice per write
				t.Fatal(err)
			}
		}
	}
	return int64(keys * (len(key) + size))
}

// procStatus returns a field of /proc/self/status in bytes.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
