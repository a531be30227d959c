package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/corekv/corekv/topology"
)

func TestWarnUnserved(t *testing.T) {
	for _, tc := range []struct {
		name string
		nics []topology.NIC
		want []string
	}{
		{name: "all served", nics: []topology.NIC{{Name: "eth0", UnservedCPUs: []int{}}, {Name: "lo"}}},
		{
			name: "one CPU",
			nics: []topology.NIC{{Name: "eth0", UnservedCPUs: []int{1}}},
			want: []string{"warning: network interrupts land on CPUs without a shard: eth0 on CPU 1; " +
				"connections received there are served on other CPUs (see corekv topology)"},
		},
		{
			name: "two interfaces, one node without shards",
			nics: []topology.NIC{
				{Name: "eth0", UnservedCPUs: []int{2, 3}},
				{Name: "eth1", UnservedCPUs: []int{4, 5, 6}, UnservedNodes: []int{1}},
			},
			want: []string{"warning: network interrupts land on CPUs without a shard: eth0 on CPUs 2-3, " +
				"eth1 on CPUs 4-6 (node 1 without any shard); connections received there are served on other CPUs (see corekv topology)"},
		},
	} {
		var logs []string
		warnUnserved(tc.nics, func(f string, args ...any) { logs = append(logs, fmt.Sprintf(f, args...)) })
		if !slices.Equal(logs, tc.want) {
			t.Errorf("%s: warnUnserved logged %q, want %q", tc.name, logs, tc.want)
		}
	}
}
