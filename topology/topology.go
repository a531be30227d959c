// Package topology describes the CPUs and NUMA nodes of a Linux machine, read
// from sysfs, and plans which CPU each shard of the server runs on.
package topology

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultRoot is where sysfs is mounted on a live machine.
const DefaultRoot = "/sys"

// Machine is the CPU and memory layout of a machine, as the kernel reports
// it under /sys/devices/system. The vocabulary is fixed:
//
//   - a CPU is a logical CPU, the kernel's cpuN: one hardware thread;
//   - a Core is a physical core, holding one CPU or several SMT siblings;
//   - a Package is a physical socket, holding one or more Dies of cores;
//   - a Cluster is a group of cores sharing a cache inside a die (the
//     kernel's cluster_id; on x86 the cores behind one L2);
//   - a Node is a NUMA node: memory and the CPUs closest to it. A node may
//     have memory and no CPUs (CXL or HBM memory), and a machine without
//     NUMA support is one node 0.
//
// Only online CPUs appear. CPUs and Nodes are sorted by id.
type Machine struct {
	CPUs  []CPU
	Nodes []Node
}

// CPU is one online logical CPU. The JSON names are those of the topology
// report.
type CPU struct {
	ID int `json:"cpu"`
	// Core is the kernel's core_id. It is unique only within a package
	// (and, on some multi-die parts, a die): the physical core is the
	// triple (Package, Die, Core).
	Core    int `json:"core"`
	Package int `json:"package"`
	// Die is the kernel's die_id, or 0 on kernels without one (before
	// Linux 5.2), where a package is one die.
	Die int `json:"-"`
	// Cluster is the kernel's cluster_id, -1 where the kernel has none.
	Cluster int `json:"-"`
	// Node is the NUMA node the CPU belongs to.
	Node int `json:"node"`
	// Siblings lists the online CPUs of the same core, this one included.
	Siblings []int `json:"siblings"`
}

// Node is one NUMA node.
type Node struct {
	ID int `json:"node"`
	// CPUs lists the node's online CPUs; it is empty, not nil, for a
	// memory-only node.
	CPUs []int `json:"cpus"`
	// Memory reports whether the node has memory.
	Memory bool `json:"memory"`
	// Distances is the node's row of the kernel's distance table (10 means
	// local), in the order of Machine.Nodes.
	Distances []int `json:"distances"`
}

// Online returns the ids of the machine's online CPUs, sorted.
func (m *Machine) Online() []int {
	ids := make([]int, len(m.CPUs))
	for i, c := range m.CPUs {
		ids[i] = c.ID
	}
	return ids
}

// CPU returns the online CPU with the given id, and whether there is one.
func (m *Machine) CPU(id int) (CPU, bool) {
	i, ok := slices.BinarySearchFunc(m.CPUs, id, func(c CPU, id int) int { return c.ID - id })
	if !ok {
		return CPU{}, false
	}
	return m.CPUs[i], true
}

// Read reads the machine under root, the mount point of sysfs: DefaultRoot
// on a live machine, a copy of its devices/system tree in tests. Missing,
// unparsable or inconsistent files are an error that names the file; Read
// never returns part of a machine.
func Read(root string) (*Machine, error) {
	f, err := readFacts(root)
	if err != nil {
		return nil, err
	}
	return build(f)
}

// FromCPUs returns a stand-in machine for when sysfs cannot be read: one
// node 0 with memory holding the given CPUs, each CPU its own core in
// package 0.
func FromCPUs(cpus []int) *Machine {
	ids := slices.Clone(cpus)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	m := &Machine{Nodes: []Node{{ID: 0, CPUs: slices.Clone(ids), Memory: true, Distances: []int{10}}}}
	if m.Nodes[0].CPUs == nil {
		m.Nodes[0].CPUs = []int{}
	}
	for _, id := range ids {
		m.CPUs = append(m.CPUs, CPU{ID: id, Core: id, Cluster: -1, Siblings: []int{id}})
	}
	return m
}

// Usable returns the CPUs the process may use, sorted: the machine's online
// CPUs that are also in allowed (the process's affinity mask; nil means
// every online CPU). If want is not nil, every CPU in it must be usable and
// Usable returns want itself, sorted; otherwise the error names the usable
// CPUs.
func Usable(m *Machine, allowed, want []int) ([]int, error) {
	usable := m.Online()
	if allowed != nil {
		usable = slices.DeleteFunc(usable, func(c int) bool { return !slices.Contains(allowed, c) })
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("no usable CPUs: online CPUs %s, allowed CPUs %s",
			FormatCPUList(m.Online()), FormatCPUList(allowed))
	}
	if want == nil {
		return usable, nil
	}
	if len(want) == 0 {
		return nil, errors.New("empty CPU list: usable CPUs are " + FormatCPUList(usable))
	}
	var bad []int
	for _, c := range want {
		if !slices.Contains(usable, c) {
			bad = append(bad, c)
		}
	}
	if bad != nil {
		return nil, fmt.Errorf("%s not usable: usable CPUs are %s", cpuNoun(bad), FormatCPUList(usable))
	}
	want = slices.Clone(want)
	slices.Sort(want)
	return slices.Compact(want), nil
}

// cpuNoun names a list of CPUs: "CPU 5" or "CPUs 5,7-9".
func cpuNoun(cpus []int) string {
	s := FormatCPUList(cpus)
	if !strings.ContainsAny(s, ",-") {
		return "CPU " + s
	}
	return "CPUs " + s
}
