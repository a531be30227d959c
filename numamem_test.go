package main

import (
	"testing"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/topology"
)

func TestResolvePolicy(t *testing.T) {
	one := topology.FromCPUs([]int{0, 1})
	two := &topology.Machine{Nodes: []topology.Node{
		{ID: 0, CPUs: []int{0}, Memory: true, Distances: []int{10, 21}},
		{ID: 1, CPUs: []int{1}, Memory: true, Distances: []int{21, 10}},
	}}
	tests := []struct {
		name    string
		in      string
		m       *topology.Machine
		want    numa.Policy
		wantErr string
	}{
		{"auto on one node", "auto", one, numa.Off, ""},
		{"auto on two nodes", "auto", two, numa.Interleave, ""},
		{"local", "local", two, numa.Local, ""},
		{"interleave on one node", "interleave", one, numa.Interleave, ""},
		{"off", "off", two, numa.Off, ""},
		{"bad", "nearest", two, numa.Off, `--numa-memory "nearest": want auto, off, interleave or local`},
		{"empty", "", two, numa.Off, `--numa-memory "": want auto, off, interleave or local`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolvePolicy(tc.in, tc.m)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("resolvePolicy(%q) = %v, %v, want error %q", tc.in, got, err, tc.wantErr)
				}
				if verr := validNUMAMemory(tc.in); verr == nil || verr.Error() != tc.wantErr {
					t.Errorf("validNUMAMemory(%q) = %v, want %q", tc.in, verr, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("resolvePolicy(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
