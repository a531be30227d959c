package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/corekv/corekv/vmtest"
)

// topology is the output of `corekv topology --json`.
type topology struct {
	CPUs []struct {
		CPU      int   `json:"cpu"`
		Core     int   `json:"core"`
		Package  int   `json:"package"`
		Node     int   `json:"node"`
		Siblings []int `json:"siblings"`
	} `json:"cpus"`
	Nodes []struct {
		Node      int   `json:"node"`
		CPUs      []int `json:"cpus"`
		Memory    bool  `json:"memory"`
		Distances []int `json:"distances"`
	} `json:"nodes"`
	Usable []int       `json:"usable"`
	Shards []planShard `json:"shards"`
}

type planShard struct {
	Shard   int `json:"shard"`
	CPU     int `json:"cpu"`
	Core    int `json:"core"`
	Package int `json:"package"`
	Node    int `json:"node"`
}

// command returns corekv with args under variant v: with --cpus when v
// names CPUs, and started through taskset when v has a mask.
func command(ctx context.Context, v vmtest.Variant, args ...string) *exec.Cmd {
	if v.CPUs != nil {
		args = append(args, "--cpus", vmtest.FormatList(v.CPUs))
	}
	if v.Mask != nil {
		args = append([]string{"taskset", vmtest.FormatList(v.Mask), corekvPath}, args...)
		return exec.CommandContext(ctx, "/init", args...)
	}
	return exec.CommandContext(ctx, corekvPath, args...)
}

// readTopology runs `corekv topology --json` under v.
func readTopology(v vmtest.Variant) (*topology, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, v, "topology", "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %s", cmd.Args, err, strings.TrimSpace(stderr.String()))
	}
	var t topology
	if err := json.Unmarshal(out, &t); err != nil {
		return nil, fmt.Errorf("%v: decode %q: %w", cmd.Args, out, err)
	}
	return &t, nil
}

// checkTopology compares `corekv topology --json` under v with the Preset.
func (g *guest) checkTopology(v vmtest.Variant) (string, error) {
	t, err := readTopology(v)
	if err != nil {
		return "", err
	}
	detail := fmt.Sprintf("cpus=%d nodes=%d usable=%s shards=%d",
		len(t.CPUs), len(t.Nodes), vmtest.FormatList(t.Usable), len(t.Shards))
	return detail, g.compareTopology(t, v.Usable(g.layout))
}

// compareTopology compares t with the layout and the usable CPUs.
func (g *guest) compareTopology(t *topology, usable []int) error {
	var c collect
	g.compareCPUs(t, &c)
	g.compareNodes(t, &c)
	if !slices.Equal(t.Usable, usable) {
		c.addf("usable = %v, want %v", t.Usable, usable)
	}
	g.comparePlan(t, usable, &c)
	return c.err()
}

// compareCPUs checks every CPU's package, node and siblings, and that equal
// (package, core) pairs group exactly the SMT siblings, whatever core
// numbering the reader uses.
func (g *guest) compareCPUs(t *topology, c *collect) {
	var ids []int
	cores := map[[2]int][]int{}
	for _, cpu := range t.CPUs {
		ids = append(ids, cpu.CPU)
		key := [2]int{cpu.Package, cpu.Core}
		cores[key] = append(cores[key], cpu.CPU)
	}
	if want := g.layout.IDs(); !slices.Equal(ids, want) {
		c.addf("cpus = %v, want %v", ids, want)
		return
	}
	for i, cpu := range t.CPUs {
		want := g.layout.CPUs[i]
		if cpu.Package != want.Package || cpu.Node != want.Node || !slices.Equal(cpu.Siblings, want.Siblings) {
			c.addf("cpu %d: package %d node %d siblings %v, want %d %d %v",
				cpu.CPU, cpu.Package, cpu.Node, cpu.Siblings, want.Package, want.Node, want.Siblings)
		}
		if got := cores[[2]int{cpu.Package, cpu.Core}]; !slices.Equal(got, want.Siblings) {
			c.addf("cpu %d: core %d of package %d holds %v, want %v", cpu.CPU, cpu.Core, cpu.Package, got, want.Siblings)
		}
	}
}

// compareNodes checks node ids, CPUs, memory and distances.
func (g *guest) compareNodes(t *topology, c *collect) {
	if len(t.Nodes) != len(g.layout.Nodes) {
		c.addf("%d nodes, want %d", len(t.Nodes), len(g.layout.Nodes))
		return
	}
	for i, n := range t.Nodes {
		want := g.layout.Nodes[i]
		if n.Node != want.Node || !slices.Equal(n.CPUs, want.CPUs) || n.Memory != want.Memory ||
			!slices.Equal(n.Distances, want.Distances) {
			c.addf("node %+v, want %+v", n, want)
		}
	}
}

// comparePlan checks that shards are numbered from 0, sit one on each
// usable CPU (the default shard count with no CPU quota) and carry those
// CPUs' core, package and node.
func (g *guest) comparePlan(t *topology, usable []int, c *collect) {
	if len(t.Shards) == 0 {
		c.addf("no shards planned")
	} else if len(t.Shards) != len(usable) {
		c.addf("%d shards planned, want one on each of the %d usable cpus", len(t.Shards), len(usable))
	}
	seen := map[int]bool{}
	for i, s := range t.Shards {
		if s.Shard != i || seen[s.CPU] || !slices.Contains(usable, s.CPU) {
			c.addf("shard %d: %+v is out of order, repeated or on an unusable CPU (usable %v)", i, s, usable)
			continue
		}
		seen[s.CPU] = true
		want, _ := g.layout.Find(s.CPU)
		if s.Package != want.Package || s.Node != want.Node || !sameCore(t, s) {
			c.addf("shard %d on cpu %d: package %d node %d core %d, want %d %d and the cpu's core",
				s.Shard, s.CPU, s.Package, s.Node, s.Core, want.Package, want.Node)
		}
	}
}

// sameCore reports whether the shard's core matches its CPU's entry.
func sameCore(t *topology, s planShard) bool {
	for _, cpu := range t.CPUs {
		if cpu.CPU == s.CPU {
			return cpu.Core == s.Core
		}
	}
	return false
}
