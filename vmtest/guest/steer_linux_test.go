package main

import (
	"strings"
	"testing"

	"github.com/corekv/corekv/shard"
)

func TestSteerVerdict(t *testing.T) {
	p := presetNamed(t, "2s-smt")
	l := p.Layout()
	// Shards on CPUs 2 and 3 (node 0) and 4 (node 1), as with the taskset
	// variant narrowed further.
	stats := func(accepted ...uint64) *shard.Stats {
		st := &shard.Stats{}
		for i, cpu := range []int{2, 3, 4} {
			st.Shards = append(st.Shards, shard.ShardStats{Shard: i, CPU: cpu, Node: cpu / 4, Accepted: accepted[i]})
		}
		return st
	}
	before := stats(1, 1, 1)
	for _, tc := range []struct {
		name    string
		cpu     int
		after   *shard.Stats
		detail  string
		wantErr string
	}{
		{"own shard", 3, stats(1, 5, 1), "3→1:+4(own)", ""},
		{"own shard missed", 3, stats(2, 4, 1), "3→0:+1,1:+3(own)", "from CPU 3: shards [0] accepted connections, want only shards [1] (own)"},
		{"unserved CPU to its node", 0, stats(3, 3, 1), "0→0:+2,1:+2(node0)", ""},
		{"unserved CPU off its node", 1, stats(4, 1, 2), "1→0:+3,2:+1(node0)", "from CPU 1: shards [2] accepted connections, want only shards [0 1] (node0)"},
		{"node 1 has a shard", 6, stats(1, 1, 5), "6→2:+4(node1)", ""},
		{"lost connection", 2, stats(4, 1, 1), "2→0:+3(own)", "from CPU 2: 3 connections accepted, want 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			detail, err := steerVerdict(l, before, tc.after, tc.cpu)
			if detail != tc.detail {
				t.Errorf("steerVerdict detail = %q, want %q", detail, tc.detail)
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("steerVerdict error = %v, want %q", err, tc.wantErr)
			}
		})
	}
	st := stats(0, 0, 0)
	st.Shards = st.Shards[:2] // node 1 without shards: anywhere
	if want, why := steerWant(l, st, 5); why != "any" || len(want) != 2 {
		t.Errorf("steerWant(CPU 5, no shard on node 1) = %v %s, want both shards, any", want, why)
	}
}
