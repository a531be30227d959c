package main

import (
	"strings"
	"testing"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/vmtest"
)

func TestWantPlacement(t *testing.T) {
	p := presetNamed(t, "4node")
	g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
	at := func(pages map[int]int, policy numa.Policy, nodes ...int) segment {
		return segment{where: numa.Placement{Pages: pages, PageSize: 4096}, policy: policy, nodes: nodes,
			spot: []int{0}, spotWant: []int{0}}
	}
	even := map[int]int{0: 64, 1: 64, 2: 64, 3: 64}
	tests := []struct {
		name         string
		policy       numa.Policy
		node, writer int
		s            segment
		wantErr      string
	}{
		{"interleave even", numa.Interleave, 0, 0, at(even, numa.Interleave, 0, 1, 2, 3), ""},
		{"interleave skewed", numa.Interleave, 0, 0, at(map[int]int{0: 65, 1: 63, 2: 64, 3: 64}, numa.Interleave, 0, 1, 2, 3),
			"node 0 holds 65 pages, want 64..64"},
		{"interleave missing a node", numa.Interleave, 0, 0, at(map[int]int{0: 128, 1: 128}, numa.Interleave, 0, 1, 2, 3),
			"node 2 holds 0 pages"},
		{"interleave over too few nodes", numa.Interleave, 0, 0, at(even, numa.Interleave, 0, 1), "want interleave [0 1 2 3]"},
		{"local on node 2", numa.Local, 2, 3, at(map[int]int{2: 256}, numa.Local, 2), ""},
		{"local by first touch", numa.Local, 2, 3, at(map[int]int{3: 256}, numa.Local, 2), "pages N3=256, want all 256 on node 2"},
		{"local without policy", numa.Local, 2, 3, at(map[int]int{2: 256}, numa.Off), "want local [2]"},
		{"off on the writer", numa.Off, 1, 1, at(map[int]int{1: 256}, numa.Off), ""},
		{"off elsewhere", numa.Off, 1, 1, at(map[int]int{0: 256}, numa.Off), "want all 256 on node 1"},
		{"absent pages", numa.Off, 1, 1, segment{where: numa.Placement{Pages: map[int]int{1: 255}, Absent: 1, PageSize: 4096}},
			"1 of 256 written pages absent"},
		{"spot check disagrees", numa.Off, 1, 1, segment{where: numa.Placement{Pages: map[int]int{1: 256}, PageSize: 4096},
			spot: []int{0}, spotWant: []int{1}}, "get_mempolicy puts the first pages on nodes [0], move_pages on [1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.wantPlacement(tc.policy, tc.node, tc.writer, tc.s)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("wantPlacement(%v, node %d, %s) = %v, want %q", tc.policy, tc.node, tc.s.counts(), err, tc.wantErr)
			}
		})
	}
}
