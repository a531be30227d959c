package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// statsFor builds the /stats a correct `corekv --pin-cores` serves for
// the plan t: one pinned shard per planned CPU.
func statsFor(t *topology) *shard.Stats {
	st := &shard.Stats{Engine: "loop"}
	for _, p := range t.Shards {
		var sh shard.ShardStats
		sh.Shard, sh.CPU, sh.Core, sh.Package, sh.Node = p.Shard, p.CPU, p.Core, p.Package, p.Node
		sh.Pinned, sh.TID = true, 100+p.Shard
		st.Shards = append(st.Shards, sh)
	}
	return st
}

func TestCompareShards(t *testing.T) {
	p := presetNamed(t, "2s-smt")
	v := p.Variants()[2] // taskset 2-5
	usable := v.Usable(p.Layout())
	tests := []struct {
		name    string
		edit    func(st *shard.Stats)
		wantErr string
	}{
		{"exact", func(*shard.Stats) {}, ""},
		{"std engine", func(st *shard.Stats) { st.Engine = "std" }, `engine "std", want loop`},
		{"not pinned", func(st *shard.Stats) { st.Shards[1].Pinned = false }, "shard 1: cpu 3 pinned false"},
		{"shard missing", func(st *shard.Stats) { st.Shards = st.Shards[:3] }, "3 shards, the plan has 4"},
		{"outside the mask", func(st *shard.Stats) { st.Shards[0].CPU = 0 }, "shards on cpus [0 3 4 5], want one on each usable cpu [2 3 4 5]"},
		{"wrong node", func(st *shard.Stats) { st.Shards[3].Node = 0 }, "shard 3: cpu 5 pinned true node 0 package 1, want pinned node 1 package 1"},
		{"plan order", func(st *shard.Stats) { st.Shards[0].CPU, st.Shards[1].CPU = 3, 2 }, "the plan says"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
			plan := topologyFor(p, usable)
			st := statsFor(plan)
			tc.edit(st)
			var c collect
			g.compareShards(st, plan, usable, &c)
			err := c.err()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("compareShards() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeRealStats(t *testing.T) {
	// A /stats document as shard.Group.WriteStats writes it.
	const doc = `{"engine":"loop","gomaxprocs":2,"keys":1,"bytes":9,"shards":[` +
		`{"shard":0,"cpu":4,"core":0,"package":1,"node":1,"pinned":true,"tid":181,` +
		`"accepted":3,"open":1,"requests":7,"in_flight":0}]}`
	st, err := decodeStats([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	sh := st.Shards[0]
	if got := fmt.Sprintf("%s %d %d %d %d %v %d %d %d", st.Engine, sh.Shard, sh.CPU, sh.Package, sh.Node,
		sh.Pinned, sh.TID, sh.Accepted, sh.Open); got != "loop 0 4 1 1 true 181 3 1" {
		t.Errorf("decodeStats() = %s, want loop 0 4 1 1 true 181 3 1", got)
	}
	out, _ := json.Marshal(st)
	if !strings.Contains(string(out), `"tid":181`) {
		t.Errorf("stats re-encoded as %s, want the tid", out)
	}
}

func TestCheckConfined(t *testing.T) {
	pid := os.Getpid()
	mask, err := allowedList(pid, pid)
	if err != nil {
		t.Fatal(err)
	}
	n, err := checkConfined(pid, nil, mask)
	if err != nil || n == 0 {
		t.Errorf("checkConfined(self, %q) = %d, %v, want every thread on the process mask", mask, n, err)
	}
	n, err = checkConfined(pid, map[int]bool{pid: true}, "1023")
	if err == nil || !strings.Contains(err.Error(), `want "1023"`) {
		t.Errorf("checkConfined(self, 1023) = %d, %v, want a mask mismatch", n, err)
	}
	if _, err := checkConfined(1<<30, nil, mask); err == nil {
		t.Errorf("checkConfined(no such process) = nil error")
	}
}
