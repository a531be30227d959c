package vmtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Preset is a CPU and NUMA layout that QEMU boots and the guest checks.
//
// A CPU is a logical CPU (cpuN), a Core holds Threads CPUs, a Package
// (socket) holds Cores cores, and a Node is a NUMA node. QEMU numbers CPUs
// socket by socket, core by core, thread by thread, so CPU i lies in
// package i/(Cores*Threads) and core i/Threads.
type Preset struct {
	// Name identifies the preset in test names and on the command line.
	Name string
	// Fixture is the folder under topology/testdata that holds this
	// layout's /sys tree.
	Fixture string
	// Sockets, Cores and Threads give the number of packages, cores per
	// package and CPUs per core.
	Sockets, Cores, Threads int
	// Nodes lists NUMA nodes in id order; nil means no NUMA options, and
	// the kernel then makes one node 0 holding every CPU.
	Nodes []Node
	// MemoryMiB is the guest memory in MiB when Nodes is nil; with Nodes
	// the guest memory is the sum of the nodes' memory.
	MemoryMiB int
	// Offline lists CPUs the guest takes offline before any check.
	Offline []int
}

// Node is one NUMA node of a Preset.
type Node struct {
	// CPUs lists the node's CPUs; empty means a memory-only node.
	CPUs []int
	// MemoryMiB is the node's memory in MiB.
	MemoryMiB int
	// Distances gives the distance to every node, this one included (10).
	Distances []int
}

// Presets returns the layouts the VM suite boots.
func Presets() []Preset {
	return []Preset{
		{Name: "1s", Fixture: "1s", Sockets: 1, Cores: 4, Threads: 1, MemoryMiB: 512},
		twoSocketSMT("2s-smt", "2s-smt", nil),
		{
			Name: "4node", Fixture: "4node", Sockets: 1, Cores: 8, Threads: 1,
			Nodes: []Node{
				{CPUs: []int{0, 1}, MemoryMiB: 128, Distances: []int{10, 12, 12, 12}},
				{CPUs: []int{2, 3}, MemoryMiB: 128, Distances: []int{12, 10, 12, 12}},
				{CPUs: []int{4, 5}, MemoryMiB: 128, Distances: []int{12, 12, 10, 12}},
				{CPUs: []int{6, 7}, MemoryMiB: 128, Distances: []int{12, 12, 12, 10}},
			},
		},
		{
			Name: "2s-memonly", Fixture: "2s-memonly", Sockets: 2, Cores: 2, Threads: 1,
			Nodes: []Node{
				{CPUs: []int{0, 1}, MemoryMiB: 192, Distances: []int{10, 21, 31}},
				{CPUs: []int{2, 3}, MemoryMiB: 192, Distances: []int{21, 10, 31}},
				{MemoryMiB: 128, Distances: []int{31, 31, 10}},
			},
		},
		twoSocketSMT("offline", "2s-smt-offline", []int{3, 6}),
	}
}

func twoSocketSMT(name, fixture string, offline []int) Preset {
	return Preset{
		Name: name, Fixture: fixture, Sockets: 2, Cores: 2, Threads: 2,
		Nodes: []Node{
			{CPUs: []int{0, 1, 2, 3}, MemoryMiB: 256, Distances: []int{10, 21}},
			{CPUs: []int{4, 5, 6, 7}, MemoryMiB: 256, Distances: []int{21, 10}},
		},
		Offline: offline,
	}
}

// NumCPU returns the number of CPUs QEMU creates, offline ones included.
func (p Preset) NumCPU() int { return p.Sockets * p.Cores * p.Threads }

// Memory returns the guest memory in MiB.
func (p Preset) Memory() int {
	if len(p.Nodes) == 0 {
		return p.MemoryMiB
	}
	sum := 0
	for _, n := range p.Nodes {
		sum += n.MemoryMiB
	}
	return sum
}

// Validate reports whether QEMU can boot the layout as described.
func (p Preset) Validate() error {
	if p.Sockets < 1 || p.Cores < 1 || p.Threads < 1 {
		return fmt.Errorf("preset %q: sockets, cores and threads must be positive", p.Name)
	}
	if p.Memory() < 1 {
		return fmt.Errorf("preset %q: no memory", p.Name)
	}
	n := p.NumCPU()
	for _, c := range p.Offline {
		if c <= 0 || c >= n {
			return fmt.Errorf("preset %q: cannot take CPU %d offline", p.Name, c)
		}
	}
	if len(p.Nodes) == 0 {
		return nil
	}
	seen := make([]bool, n)
	for i, node := range p.Nodes {
		if len(node.Distances) != len(p.Nodes) || node.Distances[i] != 10 {
			return fmt.Errorf("preset %q: node %d distances %v", p.Name, i, node.Distances)
		}
		for _, c := range node.CPUs {
			if c < 0 || c >= n || seen[c] {
				return fmt.Errorf("preset %q: node %d: bad or repeated CPU %d", p.Name, i, c)
			}
			seen[c] = true
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return fmt.Errorf("preset %q: CPU %d is in no node", p.Name, i)
	}
	return nil
}

// QEMUArgs returns the -m, -smp, -object and -numa arguments for the layout.
func (p Preset) QEMUArgs() []string {
	args := []string{
		"-m", strconv.Itoa(p.Memory()),
		"-smp", fmt.Sprintf("%d,sockets=%d,cores=%d,threads=%d", p.NumCPU(), p.Sockets, p.Cores, p.Threads),
	}
	for i, n := range p.Nodes {
		args = append(args, "-object", fmt.Sprintf("memory-backend-ram,id=mem%d,size=%dM", i, n.MemoryMiB))
		numa := fmt.Sprintf("node,nodeid=%d,memdev=mem%d", i, i)
		for _, r := range ranges(n.CPUs) {
			numa += ",cpus=" + r
		}
		args = append(args, "-numa", numa)
	}
	for i, n := range p.Nodes {
		for j := i + 1; j < len(p.Nodes); j++ {
			args = append(args, "-numa", fmt.Sprintf("dist,src=%d,dst=%d,val=%d", i, j, n.Distances[j]))
		}
	}
	return args
}

// ranges formats sorted CPUs as QEMU cpus= values such as "0-3" or "5".
func ranges(cpus []int) []string {
	var out []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if i == j {
			out = append(out, strconv.Itoa(cpus[i]))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return out
}

// FormatList formats CPU or node ids the way the kernel writes cpulist
// files ("0-2,4"); an empty list gives "".
//
// It deliberately repeats topology.FormatCPUList (and the guest's
// parseList repeats topology.ParseCPUList): the VM suite is an
// independent oracle of corekv's behaviour, so it does not share the
// code it checks, and a bug there cannot hide itself from the suite.
func FormatList(ids []int) string {
	return strings.Join(ranges(ids), ",")
}
