package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/vmtest"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"newline only", "\n", nil, ""},
		{"one", "3", []int{3}, ""},
		{"range", "0-3\n", []int{0, 1, 2, 3}, ""},
		{"mixed", "0-2,4-5,7", []int{0, 1, 2, 4, 5, 7}, ""},
		{"letter", "0-3,x", nil, `parse cpulist "0-3,x": bad range "x"`},
		{"backwards", "3-1", nil, `bad range "3-1"`},
		{"negative", "-1", nil, `bad range "-1"`},
		{"empty part", "1,,2", nil, `bad range ""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseList(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("parseList(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("parseList(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"", "3", "0-3", "0-2,4-5,7", "0-3,x", "3-1", "1,,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		got, err := parseList(s)
		if err != nil || len(got) > 1<<16 {
			return
		}
		// A sorted, duplicate-free list formats back to a list that
		// parses to the same CPUs.
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			return
		}
		again, err := parseList(vmtest.FormatList(got))
		if err != nil || !slices.Equal(again, got) {
			t.Errorf("parseList(FormatList(%v)) = %v, %v", got, again, err)
		}
	})
}

func TestAllowedList(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("sched_getaffinity: %v", err)
	}
	// Every thread of this process may differ, so compare the main
	// thread's mask with the process's.
	got, err := allowedList(os.Getpid(), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cpus, err := parseList(got)
	if err != nil || len(cpus) == 0 {
		t.Fatalf("allowedList() = %q: %v", got, err)
	}
	for _, c := range cpus {
		if !set.IsSet(c) {
			t.Errorf("allowedList() = %q, but CPU %d is not in the affinity mask", got, c)
		}
	}
	if _, err := allowedList(os.Getpid(), 1<<30); err == nil {
		t.Errorf("allowedList(no such thread) = nil error")
	}
}

// topologyFor builds the output a correct `corekv topology --json` gives
// for p, with one shard per usable CPU.
func topologyFor(p vmtest.Preset, usable []int) *topology {
	l := p.Layout()
	t := &topology{Usable: usable}
	for _, c := range l.CPUs {
		t.CPUs = append(t.CPUs, struct {
			CPU      int   `json:"cpu"`
			Core     int   `json:"core"`
			Package  int   `json:"package"`
			Node     int   `json:"node"`
			Siblings []int `json:"siblings"`
		}{c.CPU, c.Core, c.Package, c.Node, c.Siblings})
	}
	for _, n := range l.Nodes {
		t.Nodes = append(t.Nodes, struct {
			Node      int   `json:"node"`
			CPUs      []int `json:"cpus"`
			Memory    bool  `json:"memory"`
			Distances []int `json:"distances"`
		}{n.Node, n.CPUs, n.Memory, n.Distances})
	}
	for i, id := range usable {
		c, _ := l.Find(id)
		t.Shards = append(t.Shards, planShard{i, id, c.Core, c.Package, c.Node})
	}
	return t
}

func presetNamed(t *testing.T, name string) vmtest.Preset {
	t.Helper()
	for _, p := range vmtest.Presets() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no preset %q", name)
	return vmtest.Preset{}
}

func TestCompareTopology(t *testing.T) {
	p := presetNamed(t, "offline")
	usable := p.Layout().IDs()
	tests := []struct {
		name    string
		edit    func(tp *topology)
		wantErr string
	}{
		{"exact", func(*topology) {}, ""},
		{"global core numbers", func(tp *topology) {
			for i := range tp.CPUs {
				tp.CPUs[i].Core += 10 * tp.CPUs[i].Package
			}
			for i := range tp.Shards {
				tp.Shards[i].Core += 10 * tp.Shards[i].Package
			}
		}, ""},
		{"offline cpu listed", func(tp *topology) { tp.CPUs = append(tp.CPUs, tp.CPUs[0]) }, "cpus = [0 1 2 4 5 7 0]"},
		{"siblings merged", func(tp *topology) { tp.CPUs[2].Core = 0 }, "cpu 0: core 0 of package 0 holds [0 1 2], want [0 1]"},
		{"wrong node", func(tp *topology) { tp.CPUs[3].Node = 0 }, "cpu 4: package 1 node 0"},
		{"distance", func(tp *topology) { tp.Nodes[1].Distances = []int{20, 10} }, "node {"},
		{"memory flag", func(tp *topology) { tp.Nodes[0].Memory = false }, "node {"},
		{"usable", func(tp *topology) { tp.Usable = tp.Usable[1:] }, "usable = [1 2 4 5 7]"},
		{"shard on offline cpu", func(tp *topology) { tp.Shards[0].CPU = 3 }, "unusable CPU"},
		{"shard repeated", func(tp *topology) { tp.Shards[1].CPU = 0 }, "repeated"},
		{"shard node", func(tp *topology) { tp.Shards[4].Node = 0 }, "shard 4 on cpu 5: package 1 node 0"},
		{"no shards", func(tp *topology) { tp.Shards = nil }, "no shards planned"},
		{"fewer shards than cpus", func(tp *topology) { tp.Shards = tp.Shards[:5] }, "5 shards planned, want one on each of the 6 usable cpus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
			tp := topologyFor(p, usable)
			tc.edit(tp)
			err := g.compareTopology(tp, usable)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("compare = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	p := presetNamed(t, "2s-smt")
	v := p.Variants()
	tests := []struct {
		v    vmtest.Variant
		want string
	}{
		{v[0], corekvPath + " topology --json"},
		{v[1], corekvPath + " topology --json --cpus 4-7"},
		{v[2], "/init taskset 2-5 " + corekvPath + " topology --json"},
	}
	for _, tc := range tests {
		cmd := command(t.Context(), tc.v, "topology", "--json")
		if got := strings.Join(cmd.Args, " "); got != tc.want || cmd.Path != strings.Fields(tc.want)[0] {
			t.Errorf("command(%s) = %q (%s), want %q", tc.v.Name, got, cmd.Path, tc.want)
		}
	}
}

// TestGoldenTopologies checks the expectations against the topology
// package's golden outputs for the same QEMU trees, so the guest's
// model of each preset and corekv's reader agree before any boot.
func TestGoldenTopologies(t *testing.T) {
	for _, p := range vmtest.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			data, err := os.ReadFile("../../topology/testdata/" + p.Fixture + ".golden")
			if err != nil {
				t.Skipf("no golden file: %v", err)
			}
			var tp topology
			if err := json.Unmarshal(data, &tp); err != nil {
				t.Fatal(err)
			}
			g := &guest{spec: vmtest.Spec{Preset: p}, layout: p.Layout()}
			if err := g.compareTopology(&tp, p.Layout().IDs()); err != nil {
				t.Errorf("%s.golden: %v", p.Fixture, err)
			}
		})
	}
}
