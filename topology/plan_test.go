package topology

import (
	"slices"
	"testing"
)

// nodesOf builds a machine with one core per CPU in package 0, the nodes
// holding the given CPUs (an empty list is a memory-only node) at
// distance 20 from each other.
func nodesOf(cpus ...[]int) *Machine {
	var all []int
	for _, c := range cpus {
		all = append(all, c...)
	}
	m := FromCPUs(all)
	m.Nodes = nil
	for i, c := range cpus {
		n := Node{ID: i, CPUs: append([]int{}, c...), Memory: true}
		for j := range cpus {
			n.Distances = append(n.Distances, map[bool]int{true: 10, false: 20}[i == j])
		}
		m.Nodes = append(m.Nodes, n)
		for _, id := range c {
			m.CPUs[slices.Index(all, id)].Node = i
		}
	}
	return m
}

// twoPackagesOneNode is 2 sockets × 2 cores × 2 threads, numbered socket
// by socket with adjacent siblings, on a kernel without NUMA: one node.
func twoPackagesOneNode() *Machine {
	m := FromCPUs([]int{0, 1, 2, 3, 4, 5, 6, 7})
	for i := range m.CPUs {
		first := i &^ 1
		m.CPUs[i].Package, m.CPUs[i].Core, m.CPUs[i].Siblings = i/4, (i%4)/2, []int{first, first + 1}
	}
	return m
}

func TestPlan(t *testing.T) {
	interleaved := twoSocketInterleaved()
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	nps4 := nodesOf([]int{0, 1}, []int{2, 3}, []int{4, 5}, []int{6, 7})
	unequal := nodesOf([]int{0, 1, 2, 3, 4, 5}, []int{6, 7})
	memOnly := nodesOf([]int{0, 1}, []int{2, 3}, []int{})
	for _, tc := range []struct {
		name    string
		m       *Machine
		usable  []int
		n       int
		want    []int // the shards' CPUs, in shard order
		wantErr string
	}{
		{name: "interleaved: one shard", m: interleaved, usable: all, n: 1, want: []int{0}},
		{name: "interleaved: one per node", m: interleaved, usable: all, n: 2, want: []int{0, 1}},
		{name: "interleaved: 3 on 2 nodes, tie to node 0, distinct cores", m: interleaved, usable: all, n: 3, want: []int{0, 2, 1}},
		{name: "interleaved: one per core, no siblings", m: interleaved, usable: all, n: 4, want: []int{0, 2, 1, 3}},
		{name: "interleaved: cores first, then siblings 4 apart", m: interleaved, usable: all, n: 6, want: []int{0, 2, 4, 1, 3, 5}},
		{name: "interleaved: all", m: interleaved, usable: all, n: 0, want: []int{0, 2, 4, 6, 1, 3, 5, 7}},
		{name: "interleaved: n equal to usable", m: interleaved, usable: all, n: 8, want: []int{0, 2, 4, 6, 1, 3, 5, 7}},
		{name: "interleaved: narrowed usable set", m: interleaved, usable: []int{4, 0, 1}, n: 2, want: []int{0, 1}},
		{name: "interleaved: narrowed, siblings only left", m: interleaved, usable: []int{0, 4}, n: 1, want: []int{0}},
		{name: "NPS4: 3 shards on 4 nodes", m: nps4, usable: all, n: 3, want: []int{0, 2, 4}},
		{name: "NPS4: 6 shards on 4 nodes", m: nps4, usable: all, n: 6, want: []int{0, 1, 2, 3, 4, 6}},
		{name: "NPS4: one node narrowed away", m: nps4, usable: []int{0, 1, 2, 3, 6, 7}, n: 3, want: []int{0, 2, 6}},
		{name: "unequal nodes: proportional", m: unequal, usable: all, n: 4, want: []int{0, 1, 2, 6}},
		{name: "unequal nodes: largest remainder", m: unequal, usable: all, n: 3, want: []int{0, 1, 6}},
		{name: "unequal nodes: tie goes to node 0", m: unequal, usable: all, n: 2, want: []int{0, 1}},
		{name: "memory-only node gets none", m: memOnly, usable: []int{0, 1, 2, 3}, n: 3, want: []int{0, 1, 2}},
		{name: "memory-only node: all", m: memOnly, usable: []int{0, 1, 2, 3}, want: []int{0, 1, 2, 3}},
		{name: "one node, two packages: alternate packages", m: twoPackagesOneNode(), usable: all, n: 2, want: []int{0, 4}},
		{name: "one node, two packages: 3", m: twoPackagesOneNode(), usable: all, n: 3, want: []int{0, 2, 4}},
		{name: "one node, two packages: siblings last", m: twoPackagesOneNode(), usable: all, n: 5, want: []int{0, 1, 2, 4, 6}},
		{name: "fallback machine", m: FromCPUs([]int{2, 3}), usable: []int{2, 3}, n: 1, want: []int{2}},
		{name: "too many shards", m: interleaved, usable: all, n: 9, wantErr: "9 shards for 8 usable CPUs (0-7): want at most 8"},
		{name: "no usable CPUs", m: interleaved, usable: nil, wantErr: "no usable CPUs to place shards on"},
		{name: "offline CPU", m: interleaved, usable: []int{1, 8}, wantErr: "usable CPU 8 is not an online CPU (online: 0-7)"},
		{name: "repeated CPU", m: interleaved, usable: []int{1, 1}, wantErr: "usable CPUs [1 1]: CPU 1 appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Plan(tc.m, tc.usable, tc.n)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Plan(%v, %d) = %v, %v, want error %q", tc.usable, tc.n, plan, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan(%v, %d): %v", tc.usable, tc.n, err)
			}
			if got := planCPUs(plan); !slices.Equal(got, tc.want) {
				t.Errorf("Plan(%v, %d) uses CPUs %v, want %v", tc.usable, tc.n, got, tc.want)
			}
			for i, s := range plan {
				c, _ := tc.m.CPU(s.CPU)
				want := Shard{Shard: i, CPU: c.ID, Core: c.Core, Package: c.Package, Node: c.Node}
				if s != want {
					t.Errorf("shard %d = %+v, want %+v", i, s, want)
				}
			}
		})
	}
}

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		n     int
		sizes []int
		want  []int
	}{
		{1, []int{4, 4}, []int{1, 0}},
		{5, []int{4, 4}, []int{3, 2}},
		{5, []int{1, 3, 4}, []int{1, 2, 2}},
		{4, []int{2, 0, 6}, []int{1, 0, 3}},
		{8, []int{2, 0, 6}, []int{2, 0, 6}},
		{7, []int{1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 1, 1, 1, 1, 1, 1, 0}},
	} {
		if got := apportion(tc.n, tc.sizes); !slices.Equal(got, tc.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tc.n, tc.sizes, got, tc.want)
		}
	}
}

// TestPlanInvariants checks every shard count on every fixture shape:
// distinct usable CPUs, numbered from 0, no node over its share, and no
// core doubled up while some core of the node is idle.
func TestPlanInvariants(t *testing.T) {
	machines := []*Machine{twoSocketInterleaved(), twoPackagesOneNode(),
		nodesOf([]int{0, 1, 2}, []int{}, []int{3, 4, 5, 6, 7}, []int{8})}
	for _, m := range machines {
		usable := m.Online()
		for n := 1; n <= len(usable); n++ {
			plan, err := Plan(m, usable, n)
			if err != nil || len(plan) != n {
				t.Fatalf("Plan(%v, %d) = %v, %v", usable, n, plan, err)
			}
			used := map[int]bool{}
			busy := map[coreKey]int{}
			for i, s := range plan {
				if s.Shard != i || used[s.CPU] {
					t.Fatalf("Plan(%d): shard %d %+v out of order or repeated", n, i, s)
				}
				used[s.CPU] = true
				c, _ := m.CPU(s.CPU)
				busy[coreKey{c.Package, c.Die, c.Core}]++
			}
			for _, c := range m.CPUs {
				k := coreKey{c.Package, c.Die, c.Core}
				if busy[k] > 0 {
					continue
				}
				for o, count := range busy {
					if count > 1 && planNode(m, o) == c.Node {
						t.Errorf("Plan(%d) doubles up core %+v while core %+v of the same node is idle", n, o, k)
					}
				}
			}
		}
	}
}

// planNode returns the node of core k.
func planNode(m *Machine, k coreKey) int {
	for _, c := range m.CPUs {
		if (coreKey{c.Package, c.Die, c.Core}) == k {
			return c.Node
		}
	}
	return -1
}

func TestUsable(t *testing.T) {
	m := twoSocketInterleaved()
	for _, tc := range []struct {
		name    string
		allowed []int
		want    []int
		in      []int // want argument
		wantErr string
	}{
		{name: "everything", want: []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{name: "affinity mask", allowed: []int{9, 3, 1, 2}, want: []int{1, 2, 3}},
		{name: "explicit list", allowed: []int{0, 1, 2, 3}, in: []int{3, 1, 3}, want: []int{1, 3}},
		{name: "explicit list outside the mask", allowed: []int{0, 1, 2, 3}, in: []int{5}, wantErr: "CPU 5 not usable: usable CPUs are 0-3"},
		{name: "several outside", allowed: []int{0, 1, 2, 3}, in: []int{1, 4, 5, 7}, wantErr: "CPUs 4-5,7 not usable: usable CPUs are 0-3"},
		{name: "offline CPU", in: []int{8}, wantErr: "CPU 8 not usable: usable CPUs are 0-7"},
		{name: "empty explicit list", in: []int{}, wantErr: "empty CPU list: usable CPUs are 0-7"},
		{name: "mask misses every online CPU", allowed: []int{8, 9}, wantErr: "no usable CPUs: online CPUs 0-7, allowed CPUs 8-9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Usable(m, tc.allowed, tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Usable(%v, %v) = %v, %v, want error %q", tc.allowed, tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Usable(%v, %v) = %v, %v, want %v", tc.allowed, tc.in, got, err, tc.want)
			}
		})
	}
}
