package main

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// newTestEnv returns an env for the real servers, building corekv; it
// skips the test when memcached, redis-server or taskset is missing.
func newTestEnv(t *testing.T) (*env, *bytes.Buffer) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("resident memory is read from /proc: not supported on %s", runtime.GOOS)
	}
	for _, bin := range []string{"memcached", "redis-server", "taskset", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian packages memcached, redis-server, util-linux; scripts/test.sh installs them): %v", bin, err)
		}
	}
	var out, log bytes.Buffer
	c := &common{Servers: []string{corekv, memcached, redis}, MemcachedBin: "memcached", RedisBin: "redis-server"}
	e, cleanup, err := newEnv(context.Background(), c, &out, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return e, &out
}

// TestMemoryEndToEnd fills real corekv, memcached and Redis at a tiny
// scale: every server must hold every value (the command reads a sample
// back), and none can be resident in less memory than it stores.
func TestMemoryEndToEnd(t *testing.T) {
	e, out := newTestEnv(t)
	m := &memoryCmd{Workloads: []string{"a", "b", "c"}, Scale: 0.005, Batch: 64, Check: 500}
	rs, err := m.collect(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 9 {
		t.Fatalf("%d results, want 3 workloads x 3 servers", len(rs))
	}
	for _, r := range rs {
		if r.stored != newDataset(fixedSize(r.w.size)).bytes(r.w.keys) || r.notStored != 0 || r.end.items != int64(r.w.keys) || r.end.evictions != 0 {
			t.Errorf("%s on %s: stored %d B, %d refused, holds %d keys of %d, evicted %d", r.w.id, r.server, r.stored, r.notStored, r.end.items, r.w.keys, r.end.evictions)
		}
		if r.peakRatio() < 1 || r.mem.Current > r.mem.Peak || r.base.Current <= 0 {
			t.Errorf("%s on %s: base %d, peak %d, end %d B for %d stored", r.w.id, r.server, r.base.Current, r.mem.Peak, r.mem.Current, r.stored)
		}
	}
	if err := writeMemory(out, e.Servers, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"corekv", "memcached", "redis", "b: 1,500 keys x 1,000 B, overwritten 3 more times", "-m 65536", "added/stored"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestHitratioEndToEnd replays a short stream against the real servers
// at a budget that holds a fraction of the keys: the hit ratios must lie
// strictly between 0 and 1, and Redis and memcached must evict rather
// than refuse (corekv refuses with 507 until it evicts).
func TestHitratioEndToEnd(t *testing.T) {
	e, out := newTestEnv(t)
	h := &hitratioCmd{Alphas: []float64{0.99}, Keys: 20_000, MinValue: 100, MaxValue: 1000,
		Requests: 60_000, Warmup: 20_000, Share: 0.3, Batch: 100, Seed: 1}
	set, b, rs, err := h.collect(e)
	if err != nil {
		t.Fatal(err)
	}
	if b.bytes != int64(float64(set)*0.3+0.5) {
		t.Errorf("budget %d B, want 30%% of %d", b.bytes, set)
	}
	for _, r := range rs {
		if r.counted != 40_000 || r.hits <= 0 || r.hits >= r.counted || r.sets != r.counted-r.hits {
			t.Errorf("%s: counted %d, hits %d, SETs %d", r.server, r.counted, r.hits, r.sets)
		}
		if r.server != corekv && r.notStored != 0 {
			t.Errorf("%s refused %d SETs, want eviction instead", r.server, r.notStored)
		}
		if r.end.items <= 0 || r.end.items >= int64(h.Keys) {
			t.Errorf("%s holds %d keys at the end, want some of the %d, not all", r.server, r.end.items, h.Keys)
		}
		if r.server != corekv && (!r.end.hasEvictions || r.end.evictions <= 0) {
			t.Errorf("%s reports %d evictions (counted: %v), want some", r.server, r.end.evictions, r.end.hasEvictions)
		}
	}
	if err := h.write(e, set, b, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--maxmemory-policy allkeys-lru", "zipf 0.99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"scale zero", []string{"memory", "--scale", "0"}, "--scale 0: want above 0, at most 100"},
		{"unknown workload", []string{"memory", "--workloads", "d"}, `--workloads must be one of "a","b","c" but got "d"`},
		{"warmup beyond requests", []string{"hitratio", "--requests", "10", "--warmup", "10"}, "--requests 10, --warmup 10: want 0 <= warmup < requests"},
		{"bad alpha", []string{"hitratio", "--alphas=0.9,-1"}, "--alphas: -1: want finite numbers above 0"},
		{"share over 1", []string{"hitratio", "--share", "1.5"}, "--share 1.5: want above 0, at most 1"},
		{"values too large", []string{"hitratio", "--max-value", "2000000"}, "--min-value 100, --max-value 2000000: want 1 <= min <= max <= 1048576"},
		{"unknown server", []string{"memory", "--servers", "nginx"}, `--servers must be one of "corekv","memcached","redis" but got "nginx"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) error = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}
