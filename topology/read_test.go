package topology

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// The fixture trees under testdata/<shape>/sys were copied from
// ../shared/testdata/sysfs: real /sys files written by Debian's Linux 6.1
// amd64 kernel booted under QEMU with each layout (see that README).
var fixtures = []struct {
	shape    string
	online   []int
	packages int
	cores    int           // distinct physical cores
	siblings map[int][]int // spot checks
	nodes    []Node
	halfPlan []int // CPUs of Plan with half as many shards as CPUs
}{
	{
		shape:  "1s", // 1 socket × 4 cores, no NUMA options
		online: []int{0, 1, 2, 3}, packages: 1, cores: 4,
		siblings: map[int][]int{0: {0}, 3: {3}},
		nodes:    []Node{{ID: 0, CPUs: []int{0, 1, 2, 3}, Memory: true, Distances: []int{10}}},
		halfPlan: []int{0, 1},
	},
	{
		shape:  "2s-smt", // 2 sockets × 2 cores × 2 threads, a node per socket
		online: []int{0, 1, 2, 3, 4, 5, 6, 7}, packages: 2, cores: 4,
		siblings: map[int][]int{0: {0, 1}, 1: {0, 1}, 6: {6, 7}},
		nodes: []Node{
			{ID: 0, CPUs: []int{0, 1, 2, 3}, Memory: true, Distances: []int{10, 21}},
			{ID: 1, CPUs: []int{4, 5, 6, 7}, Memory: true, Distances: []int{21, 10}},
		},
		halfPlan: []int{0, 2, 4, 6},
	},
	{
		shape:  "2s-smt-offline", // 2s-smt with CPUs 3 and 6 offline
		online: []int{0, 1, 2, 4, 5, 7}, packages: 2, cores: 4,
		siblings: map[int][]int{0: {0, 1}, 2: {2}, 4: {4, 5}, 7: {7}},
		nodes: []Node{
			{ID: 0, CPUs: []int{0, 1, 2}, Memory: true, Distances: []int{10, 21}},
			{ID: 1, CPUs: []int{4, 5, 7}, Memory: true, Distances: []int{21, 10}},
		},
		halfPlan: []int{0, 2, 4}, // 1.5 shards per node: the tie goes to node 0
	},
	{
		shape:  "2s-memonly", // 2 sockets × 2 cores, node 2 has memory only
		online: []int{0, 1, 2, 3}, packages: 2, cores: 4,
		siblings: map[int][]int{1: {1}, 2: {2}},
		nodes: []Node{
			{ID: 0, CPUs: []int{0, 1}, Memory: true, Distances: []int{10, 21, 31}},
			{ID: 1, CPUs: []int{2, 3}, Memory: true, Distances: []int{21, 10, 31}},
			{ID: 2, CPUs: []int{}, Memory: true, Distances: []int{31, 31, 10}},
		},
		halfPlan: []int{0, 2},
	},
	{
		shape:  "4node", // 1 socket × 8 cores in 4 nodes, like AMD EPYC NPS4
		online: []int{0, 1, 2, 3, 4, 5, 6, 7}, packages: 1, cores: 8,
		siblings: map[int][]int{5: {5}},
		nodes: []Node{
			{ID: 0, CPUs: []int{0, 1}, Memory: true, Distances: []int{10, 12, 12, 12}},
			{ID: 1, CPUs: []int{2, 3}, Memory: true, Distances: []int{12, 10, 12, 12}},
			{ID: 2, CPUs: []int{4, 5}, Memory: true, Distances: []int{12, 12, 10, 12}},
			{ID: 3, CPUs: []int{6, 7}, Memory: true, Distances: []int{12, 12, 12, 10}},
		},
		halfPlan: []int{0, 2, 4, 6},
	},
}

func TestReadFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.shape, func(t *testing.T) {
			m, err := Read(filepath.Join("testdata", fx.shape, "sys"))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Online(); !slices.Equal(got, fx.online) {
				t.Errorf("online CPUs = %v, want %v", got, fx.online)
			}
			pkgs, cores := map[int]bool{}, map[coreKey]bool{}
			for _, c := range m.CPUs {
				pkgs[c.Package] = true
				cores[coreKey{c.Package, c.Die, c.Core}] = true
			}
			if len(pkgs) != fx.packages || len(cores) != fx.cores {
				t.Errorf("%d packages and %d cores, want %d and %d", len(pkgs), len(cores), fx.packages, fx.cores)
			}
			for id, want := range fx.siblings {
				if c, _ := m.CPU(id); !slices.Equal(c.Siblings, want) {
					t.Errorf("CPU %d siblings = %v, want %v", id, c.Siblings, want)
				}
			}
			if !reflect.DeepEqual(m.Nodes, fx.nodes) {
				t.Errorf("nodes = %+v, want %+v", m.Nodes, fx.nodes)
			}
			for _, c := range m.CPUs {
				if n := nodeIndex(m, c.Node); n < 0 || !slices.Contains(m.Nodes[n].CPUs, c.ID) {
					t.Errorf("CPU %d says node %d, which does not hold it", c.ID, c.Node)
				}
			}
			plan, err := Plan(m, m.Online(), len(fx.online)/2)
			if err != nil {
				t.Fatal(err)
			}
			if got := planCPUs(plan); !slices.Equal(got, fx.halfPlan) {
				t.Errorf("Plan(%d shards) uses CPUs %v, want %v", len(fx.online)/2, got, fx.halfPlan)
			}
		})
	}
}

func nodeIndex(m *Machine, id int) int {
	return slices.IndexFunc(m.Nodes, func(n Node) bool { return n.ID == id })
}

func planCPUs(plan []Shard) []int {
	var cpus []int
	for _, s := range plan {
		cpus = append(cpus, s.CPU)
	}
	return cpus
}

// TestGolden compares each shape's report, with every online CPU usable
// and the default plan, with testdata/<shape>.golden. The shapes 2s-smt
// and 4node also have network trees (see TestReadNetworkFixtures).
func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.shape, func(t *testing.T) {
			m, err := Read(filepath.Join("testdata", fx.shape, "sys"))
			if err != nil {
				t.Fatal(err)
			}
			usable, err := Usable(m, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := Plan(m, usable, 0)
			if err != nil {
				t.Fatal(err)
			}
			nics, err := ReadNetwork(filepath.Join("testdata", fx.shape, "sys"), filepath.Join("testdata", fx.shape, "proc"))
			if err != nil {
				t.Fatal(err)
			}
			r := NewReport(m, usable, plan)
			r.Network = NetworkReport(nics, m, plan)
			var got bytes.Buffer
			if err := r.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", fx.shape+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("report differs from %s (rerun with -update and review the diff):\n%s", golden, got.Bytes())
			}
		})
	}
}
