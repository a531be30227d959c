package main

import (
	"strings"
	"testing"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

func TestWantPlacement(t *testing.T) {
	p := presetNamed(t, "4node")
	g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
	at := func(pages map[int]int, policy numa.Policy, nodes ...int) segment {
		resident := map[int]int64{}
		for n, c := range pages {
			resident[n] = int64(c) * 4096
		}
		return segment{where: numa.Placement{Pages: pages, PageSize: 4096}, policy: policy, nodes: nodes,
			spot: []int{0}, spotWant: []int{0}, resident: resident}
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
		{"absent pages", numa.Off, 1, 1, segment{where: numa.Placement{Pages: map[int]int{1: 255}, Absent: 1, PageSize: 4096},
			resident: map[int]int64{1: 255 * 4096}}, "1 of 256 written pages absent"},
		{"spot check disagrees", numa.Off, 1, 1, segment{where: numa.Placement{Pages: map[int]int{1: 256}, PageSize: 4096},
			spot: []int{0}, spotWant: []int{1}, resident: map[int]int64{1: 1 << 20}}, "get_mempolicy puts the first pages on nodes [0], move_pages on [1]"},
		{"resident disagrees", numa.Off, 1, 1, segment{where: numa.Placement{Pages: map[int]int{1: 256}, PageSize: 4096},
			resident: map[int]int64{0: 1 << 20}}, "Resident() = map[0:1048576] bytes by node, want the segment's pages N1=256"},
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

func TestParseNUMAMaps(t *testing.T) {
	text := "00400000 default file=/bin/corekv mapped=620 active=0 N0=620 kernelpagesize_kB=4\n" +
		"7f0000000000 prefer:1 anon=17 dirty=17 N1=17 kernelpagesize_kB=4\n" +
		"7f0000100000 interleave:0-3 anon=256 dirty=256 N0=64 N1=64 N2=64 N3=64 kernelpagesize_kB=4\n" +
		"7ffd00000000 default stack anon=3 dirty=3 N0=3 kernelpagesize_kB=4\n"
	vmas, err := parseNUMAMaps(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(vmas) != 4 || vmas[1].policy != "prefer:1" || vmas[1].pages[1] != 17 || len(vmas[1].pages) != 1 ||
		vmas[2].policy != "interleave:0-3" || vmas[2].pages[3] != 64 || len(vmas[2].pages) != 4 {
		t.Errorf("parseNUMAMaps = %+v", vmas)
	}
	for _, bad := range []string{"7f00\n", "7f00 default N1=x\n", "7f00 default Nx=1\n"} {
		if _, err := parseNUMAMaps(bad); err == nil {
			t.Errorf("parseNUMAMaps(%q) = nil error", bad)
		}
	}
}

func TestWantValues(t *testing.T) {
	p := presetNamed(t, "2s-memonly") // three memory nodes
	g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
	const count = 200 // 5000 pages of values, 20 segments
	tests := []struct {
		name    string
		policy  numa.Policy
		pages   map[int]int
		wantErr string
	}{
		{"interleave even", numa.Interleave, map[int]int{0: 1673, 1: 1674, 2: 1673}, ""},
		{"interleave within a page per segment", numa.Interleave, map[int]int{0: 1653, 1: 1693, 2: 1674}, ""},
		{"interleave skewed", numa.Interleave, map[int]int{0: 1500, 1: 1847, 2: 1673}, "node 0 holds 1500 of 5020 pages, want 1673 ± 20"},
		{"interleave off the memory nodes", numa.Interleave, map[int]int{0: 1673, 1: 1674, 2: 1673, 5: 1}, "1 pages on node 5"},
		{"too few pages", numa.Interleave, map[int]int{0: 100, 1: 100, 2: 100}, "300 pages in the store's mappings, want at least the 5000"},
		{"local on the writer", numa.Local, map[int]int{1: 5020}, ""},
		{"local spilled", numa.Local, map[int]int{1: 5000, 0: 20}, "want all 5020 on node 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.wantValues(tc.policy, 1, tc.pages, count)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("wantValues(%v, %v) = %v, want %q", tc.policy, tc.pages, err, tc.wantErr)
			}
		})
	}
}

func TestMemFree(t *testing.T) {
	meminfo := "Node 2 MemTotal:         131072 kB\nNode 2 MemFree:          118000 kB\nNode 2 MemUsed:           13072 kB\n"
	tests := []struct {
		name    string
		in      string
		node    int
		want    int64
		wantErr string
	}{
		{"found", meminfo, 2, 118000, ""},
		{"other node", meminfo, 1, 0, `no "Node 1 MemFree:" line`},
		{"bad number", "Node 0 MemFree: lots kB\n", 0, 0, `bad line "Node 0 MemFree: lots kB"`},
	}
	for _, tc := range tests {
		got, err := memFree(tc.in, tc.node)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: memFree = %d, %v, want error %q", tc.name, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: memFree = %d, %v, want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestWantResident(t *testing.T) {
	pages := map[int]int{0: 100, 1: 100}
	tests := []struct {
		name    string
		policy  numa.Policy
		st      shard.Stats
		wantErr string
	}{
		{"interleave equal", numa.Interleave, shard.Stats{ResidentByNode: map[int]int64{0: 409600, 1: 409600}}, ""},
		{"interleave short", numa.Interleave, shard.Stats{ResidentByNode: map[int]int64{0: 409600, 1: 4096}}, "numa_maps pages"},
		{"local within", numa.Local, shard.Stats{ResidentByNode: map[int]int64{0: 4096, 1: 4096}}, ""},
		{"local beyond", numa.Local, shard.Stats{ResidentByNode: map[int]int64{0: 409601, 1: 0}}, "numa_maps pages"},
		{"another node", numa.Local, shard.Stats{ResidentByNode: map[int]int64{0: 4096}}, "other nodes"},
		{"error", numa.Local, shard.Stats{ResidentError: "numa: move_pages: operation not permitted"}, `/stats resident_error "numa: move_pages`},
	}
	for _, tc := range tests {
		err := wantResident(tc.policy, &tc.st, pages)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: wantResident = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
