package topology

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Shard is where one shard runs: its CPU, and that CPU's core, package and
// NUMA node. The JSON names are those of the topology report.
type Shard struct {
	Shard   int `json:"shard"`
	CPU     int `json:"cpu"`
	Core    int `json:"core"`
	Package int `json:"package"`
	Node    int `json:"node"`
}

// Plan places n shards on distinct CPUs of usable, which must be online
// CPUs of m. n <= 0 means one shard per usable CPU; more shards than usable
// CPUs is an error. Plan does no I/O and always gives the same plan for the
// same input.
//
// With fewer shards than usable CPUs, Plan places them as one would by
// hand:
//
//  1. Nodes get shards in proportion to their usable CPUs, by
//     largest-remainder apportionment; ties go to the lower node id.
//  2. Within a node, each shard takes a physical core no other shard holds
//     before any shard shares a core with an SMT sibling, and the cores are
//     dealt to the node's packages in turn, so that a node spanning
//     packages (a machine without NUMA) uses them evenly. Among equals the
//     lower CPU id wins.
//
// Shards are numbered node by node in node id order, and within a node in
// CPU id order, starting at 0.
func Plan(m *Machine, usable []int, n int) ([]Shard, error) {
	cpus, err := usableCPUs(m, usable)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		n = len(cpus)
	}
	if n > len(cpus) {
		return nil, fmt.Errorf("%d shards for %d usable CPUs (%s): want at most %d",
			n, len(cpus), FormatCPUList(usable), len(cpus))
	}
	groups := make([][]CPU, len(m.Nodes))
	sizes := make([]int, len(m.Nodes))
	for i, node := range m.Nodes {
		for _, c := range cpus {
			if c.Node == node.ID {
				groups[i] = append(groups[i], c)
			}
		}
		sizes[i] = len(groups[i])
	}
	var plan []Shard
	for i, k := range apportion(n, sizes) {
		for _, c := range pickCPUs(groups[i], k) {
			plan = append(plan, Shard{Shard: len(plan), CPU: c.ID, Core: c.Core, Package: c.Package, Node: c.Node})
		}
	}
	return plan, nil
}

// usableCPUs returns the CPUs of m named in usable, in id order.
func usableCPUs(m *Machine, usable []int) ([]CPU, error) {
	if len(usable) == 0 {
		return nil, errors.New("no usable CPUs to place shards on")
	}
	ids := slices.Sorted(slices.Values(usable))
	var cpus []CPU
	for i, id := range ids {
		if i > 0 && ids[i-1] == id {
			return nil, fmt.Errorf("usable CPUs %v: CPU %d appears twice", usable, id)
		}
		c, ok := m.CPU(id)
		if !ok {
			return nil, fmt.Errorf("usable CPU %d is not an online CPU (online: %s)", id, FormatCPUList(m.Online()))
		}
		cpus = append(cpus, c)
	}
	return cpus, nil
}

// apportion splits n seats among parties of the given sizes in proportion
// to their size (largest remainder method; ties go to the lower index). n
// must not exceed the sum of sizes, which must be positive; no party gets
// more seats than its size.
func apportion(n int, sizes []int) []int {
	total := 0
	for _, s := range sizes {
		total += s
	}
	seats := make([]int, len(sizes))
	rems := make([]int, len(sizes))
	given := 0
	for i, s := range sizes {
		seats[i], rems[i] = n*s/total, n*s%total
		given += seats[i]
	}
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for _, i := range order[:n-given] {
		seats[i]++
	}
	return seats
}

// pickCPUs returns k of cpus (sorted by id), in id order: first one CPU of
// each core, cores dealt round-robin over packages, then second SMT
// siblings, and so on.
func pickCPUs(cpus []CPU, k int) []CPU {
	pkgs := []int{}
	for _, c := range cpus {
		pkgs = append(pkgs, c.Package)
	}
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)

	type rank struct{ sibling, core, pkg int }
	ranks := map[int]rank{}       // CPU id -> its rank
	coreRank := map[coreKey]int{} // core -> its rank within its package
	siblings := map[coreKey]int{} // core -> its CPUs ranked so far
	coresPerPkg := map[int]int{}  // package -> its cores ranked so far
	for _, c := range cpus {
		key := coreKey{c.Package, c.Die, c.Core}
		if _, ok := coreRank[key]; !ok {
			coreRank[key] = coresPerPkg[c.Package]
			coresPerPkg[c.Package]++
		}
		pkg, _ := slices.BinarySearch(pkgs, c.Package)
		ranks[c.ID] = rank{sibling: siblings[key], core: coreRank[key], pkg: pkg}
		siblings[key]++
	}
	order := slices.Clone(cpus)
	slices.SortStableFunc(order, func(a, b CPU) int {
		ra, rb := ranks[a.ID], ranks[b.ID]
		return cmp.Or(cmp.Compare(ra.sibling, rb.sibling), cmp.Compare(ra.core, rb.core), cmp.Compare(ra.pkg, rb.pkg))
	})
	picked := order[:k]
	slices.SortFunc(picked, func(a, b CPU) int { return cmp.Compare(a.ID, b.ID) })
	return picked
}
