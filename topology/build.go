package topology

import (
	"fmt"
	"maps"
	"slices"
)

// coreKey names a physical core: core ids are unique only within a
// package, and on some multi-die parts within a die.
type coreKey struct{ pkg, die, core int }

// build checks the facts against each other and makes the Machine. It does
// no I/O: every error names the file whose content disagrees.
func build(f *facts) (*Machine, error) {
	if len(f.online) == 0 {
		return nil, fmt.Errorf("%s: no online CPUs", f.path("cpu/online"))
	}
	if err := checkOnline(f); err != nil {
		return nil, err
	}
	m := &Machine{}
	for _, c := range f.online {
		cf := f.cpus[c]
		m.CPUs = append(m.CPUs, CPU{ID: c, Core: cf.core, Package: cf.pkg, Die: cf.die,
			Cluster: cf.cluster, Siblings: cf.siblings})
	}
	if err := checkSiblings(f, m); err != nil {
		return nil, err
	}
	if !f.numa {
		m.Nodes = []Node{{ID: 0, CPUs: f.online, Memory: true, Distances: []int{10}}}
		return m, nil
	}
	var err error
	if m.Nodes, err = buildNodes(f); err != nil {
		return nil, err
	}
	if err := assignNodes(f, m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkOnline checks cpu/online against the cpuN/online files.
func checkOnline(f *facts) error {
	for _, c := range f.online {
		if _, ok := f.onlineFlag[c]; !ok {
			return fmt.Errorf("%s lists CPU %d, which has no directory %s",
				f.path("cpu/online"), c, f.path(fmt.Sprintf("cpu/cpu%d", c)))
		}
	}
	for _, c := range slices.Sorted(maps.Keys(f.onlineFlag)) {
		flag := f.onlineFlag[c]
		listed := slices.Contains(f.online, c)
		if flag != "" && flag != "0" && flag != "1" {
			return fmt.Errorf("%s: bad online flag %q", f.path(fmt.Sprintf("cpu/cpu%d/online", c)), flag)
		}
		if listed != (flag != "0") {
			return fmt.Errorf("%s is %q but %s is %q", f.path(fmt.Sprintf("cpu/cpu%d/online", c)), flag,
				f.path("cpu/online"), FormatCPUList(f.online))
		}
	}
	return nil
}

// checkSiblings checks that each CPU's thread_siblings_list is exactly the
// set of online CPUs with the same package, die and core ids.
func checkSiblings(f *facts, m *Machine) error {
	cores := map[coreKey][]int{}
	for _, c := range m.CPUs {
		k := coreKey{c.Package, c.Die, c.Core}
		cores[k] = append(cores[k], c.ID)
	}
	for _, c := range m.CPUs {
		want := cores[coreKey{c.Package, c.Die, c.Core}]
		if !slices.Equal(c.Siblings, want) {
			return fmt.Errorf("%s is %q, but the online CPUs of package %d die %d core %d are %q",
				f.path(fmt.Sprintf("cpu/cpu%d/topology/thread_siblings_list", c.ID)),
				FormatCPUList(c.Siblings), c.Package, c.Die, c.Core, FormatCPUList(want))
		}
	}
	return nil
}

// buildNodes makes the nodes, keeping only online CPUs in each.
func buildNodes(f *facts) ([]Node, error) {
	list := f.path("node/" + f.nodeList)
	if len(f.nodeIDs) == 0 {
		return nil, fmt.Errorf("%s: no nodes", list)
	}
	for _, n := range f.memory {
		if !slices.Contains(f.nodeIDs, n) {
			return nil, fmt.Errorf("%s lists node %d, which %s does not", f.path("node/has_memory"), n, list)
		}
	}
	nodes := make([]Node, 0, len(f.nodeIDs))
	for _, n := range f.nodeIDs {
		nf := f.nodes[n]
		if len(nf.distances) != len(f.nodeIDs) {
			return nil, fmt.Errorf("%s has %d distances for the %d nodes of %s",
				f.path(fmt.Sprintf("node/node%d/distance", n)), len(nf.distances), len(f.nodeIDs), list)
		}
		cpus := slices.DeleteFunc(slices.Clone(nf.cpus), func(c int) bool { return !slices.Contains(f.online, c) })
		nodes = append(nodes, Node{ID: n, CPUs: cpus, Memory: slices.Contains(f.memory, n), Distances: nf.distances})
	}
	return nodes, nil
}

// assignNodes sets each CPU's node, checking that every online CPU is in
// exactly one node.
func assignNodes(f *facts, m *Machine) error {
	seen := map[int]int{} // CPU id -> node id
	for _, n := range m.Nodes {
		for _, c := range n.CPUs {
			if prev, dup := seen[c]; dup {
				return fmt.Errorf("CPU %d is in both %s and %s", c,
					f.path(fmt.Sprintf("node/node%d/cpulist", prev)), f.path(fmt.Sprintf("node/node%d/cpulist", n.ID)))
			}
			seen[c] = n.ID
		}
	}
	for i := range m.CPUs {
		n, ok := seen[m.CPUs[i].ID]
		if !ok {
			return fmt.Errorf("online CPU %d is in no node's cpulist under %s", m.CPUs[i].ID, f.path("node"))
		}
		m.CPUs[i].Node = n
	}
	return nil
}
