package topology

import "slices"

// Route says where the connections a CPU receives should be served: for
// each CPU id from 0 to the highest online CPU of m, the indexes into plan
// of the shards that may take a connection whose first packet (the SYN)
// that CPU processes, sorted:
//
//  1. the CPU's own shard, if one runs on it;
//  2. otherwise the shards on the CPU's NUMA node, spread over them;
//  3. otherwise, or for an id that is not an online CPU of m, every shard.
//
// Route does no I/O. A CPU above the highest online one (hot-added later)
// is left to the consumer of the table, which should treat it as case 3.
// An empty plan gives a table of empty lists.
func Route(m *Machine, plan []Shard) [][]int {
	all := make([]int, len(plan))
	onCPU := map[int]int{}
	onNode := map[int][]int{}
	for i, s := range plan {
		all[i] = i
		onCPU[s.CPU] = i
		onNode[s.Node] = append(onNode[s.Node], i)
	}
	if len(m.CPUs) == 0 {
		return nil
	}
	route := make([][]int, m.CPUs[len(m.CPUs)-1].ID+1)
	for id := range route {
		route[id] = slices.Clone(all)
	}
	for _, c := range m.CPUs {
		if i, ok := onCPU[c.ID]; ok {
			route[c.ID] = []int{i}
		} else if near, ok := onNode[c.Node]; ok {
			route[c.ID] = slices.Clone(near)
		}
	}
	return route
}
