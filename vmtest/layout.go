package vmtest

import "slices"

// Layout is what a guest booted from a Preset must show once its offline
// CPUs are offline: the facts the kernel reports in /sys and that
// `corekv topology --json` must repeat.
type Layout struct {
	// CPUs lists the online CPUs in id order.
	CPUs []CPU
	// Nodes lists every NUMA node in id order, memory-only ones included.
	Nodes []NodeLayout
}

// CPU is one online CPU of a Layout.
type CPU struct {
	CPU     int
	Package int
	// Core is the kernel's core_id: the core's index inside its package.
	Core int
	Node int
	// Siblings lists the online CPUs of the same core, this one included.
	Siblings []int
}

// NodeLayout is one NUMA node of a Layout.
type NodeLayout struct {
	Node int
	// CPUs lists the node's online CPUs.
	CPUs []int
	// Memory reports whether the node has memory.
	Memory    bool
	Distances []int
}

// Online returns the CPUs that are online once Offline CPUs are taken down.
func (p Preset) Online() []int {
	var out []int
	for c := range p.NumCPU() {
		if !slices.Contains(p.Offline, c) {
			out = append(out, c)
		}
	}
	return out
}

// Layout returns what the guest must show for p.
func (p Preset) Layout() Layout {
	online := p.Online()
	nodes := p.Nodes
	if len(nodes) == 0 {
		nodes = []Node{{CPUs: online, MemoryMiB: p.MemoryMiB, Distances: []int{10}}}
	}
	var l Layout
	nodeOf := make(map[int]int)
	for i, n := range nodes {
		nl := NodeLayout{Node: i, Memory: n.MemoryMiB > 0, Distances: n.Distances, CPUs: []int{}}
		for _, c := range n.CPUs {
			if slices.Contains(online, c) {
				nl.CPUs = append(nl.CPUs, c)
				nodeOf[c] = i
			}
		}
		l.Nodes = append(l.Nodes, nl)
	}
	for _, c := range online {
		core := c / p.Threads
		cpu := CPU{CPU: c, Package: core / p.Cores, Core: core % p.Cores, Node: nodeOf[c]}
		for t := core * p.Threads; t < (core+1)*p.Threads; t++ {
			if slices.Contains(online, t) {
				cpu.Siblings = append(cpu.Siblings, t)
			}
		}
		l.CPUs = append(l.CPUs, cpu)
	}
	return l
}

// Find returns the online CPU with id c.
func (l Layout) Find(c int) (CPU, bool) {
	for _, cpu := range l.CPUs {
		if cpu.CPU == c {
			return cpu, true
		}
	}
	return CPU{}, false
}

// IDs returns the ids of the online CPUs.
func (l Layout) IDs() []int {
	ids := make([]int, len(l.CPUs))
	for i, c := range l.CPUs {
		ids[i] = c.CPU
	}
	return ids
}
