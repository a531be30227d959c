package numa

import (
	"fmt"
	"slices"

	"github.com/corekv/corekv/topology"
)

// Policy says where a Mapper puts the pages of the memory it maps.
type Policy int

// The policies, as --numa-memory names them.
const (
	// Off sets no policy: each page lands on the node of the CPU that
	// first touches it, the kernel's default.
	Off Policy = iota
	// Interleave spreads every mapping page by page, round robin, over
	// all the memory nodes the process may use (MPOL_INTERLEAVE): even
	// bandwidth and capacity for memory that every shard reads.
	Interleave
	// Local puts a mapping on the node it is mapped for (MPOL_PREFERRED),
	// or, for a node without memory, on the nearest memory node by the
	// kernel's distance table. When that node is full the kernel takes
	// pages from other nodes rather than reclaiming or failing, which
	// MPOL_BIND would do.
	Local
)

// String returns the policy's name as ParsePolicy reads it.
func (p Policy) String() string {
	switch p {
	case Off:
		return "off"
	case Interleave:
		return "interleave"
	case Local:
		return "local"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy parses a policy name: off, interleave or local.
func ParsePolicy(s string) (Policy, error) {
	for _, p := range []Policy{Off, Interleave, Local} {
		if s == p.String() {
			return p, nil
		}
	}
	return Off, fmt.Errorf("numa: parse policy %q: want off, interleave or local", s)
}

// DefaultPolicy returns the policy for value memory on m: Interleave when
// m has more than one memory node (every shard reads every key, so no
// node is the right one), Off otherwise.
func DefaultPolicy(m *topology.Machine) Policy {
	n := 0
	for _, node := range m.Nodes {
		if node.Memory {
			n++
		}
	}
	if n > 1 {
		return Interleave
	}
	return Off
}

// homes returns the memory nodes of m that allowed permits (nil: every
// one), and for every node of m the nearest of them by m's distance
// table, ties going to the lower id.
func homes(m *topology.Machine, allowed []int) ([]int, map[int]int, error) {
	var mem []int
	for _, n := range m.Nodes {
		if n.ID < 0 || n.ID >= MaxNode {
			return nil, nil, fmt.Errorf("numa: node %d: ids must lie in 0..%d", n.ID, MaxNode-1)
		}
		if len(n.Distances) != len(m.Nodes) {
			return nil, nil, fmt.Errorf("numa: node %d has %d distances for %d nodes", n.ID, len(n.Distances), len(m.Nodes))
		}
		if n.Memory && (allowed == nil || slices.Contains(allowed, n.ID)) {
			mem = append(mem, n.ID)
		}
	}
	if len(mem) == 0 {
		return nil, nil, fmt.Errorf("numa: no memory node the process may use (allowed nodes %s)",
			topology.FormatCPUList(allowed))
	}
	slices.Sort(mem)
	home := make(map[int]int, len(m.Nodes))
	for _, n := range m.Nodes {
		best := -1
		for j, to := range m.Nodes {
			if slices.Contains(mem, to.ID) && (best < 0 || n.Distances[j] < n.Distances[best]) {
				best = j
			}
		}
		home[n.ID] = m.Nodes[best].ID
	}
	return mem, home, nil
}
