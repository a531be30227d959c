package topology

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestRoute(t *testing.T) {
	nps4 := nodesOf([]int{0, 1}, []int{2, 3}, []int{4, 5}, []int{6, 7})
	holes := nodesOf([]int{0, 3}, []int{5})
	for _, tc := range []struct {
		name   string
		m      *Machine
		usable []int
		n      int
		want   [][]int
	}{
		{
			name: "a shard on every CPU: each CPU to its own",
			m:    nodesOf([]int{0, 1}), usable: []int{0, 1}, n: 0,
			want: [][]int{{0}, {1}},
		},
		{
			name: "one shard per node: unserved CPUs to their node's shard",
			m:    nps4, usable: []int{0, 1, 2, 3, 4, 5, 6, 7}, n: 4,
			want: [][]int{{0}, {0}, {1}, {1}, {2}, {2}, {3}, {3}},
		},
		{
			name: "shards on two nodes of four: the others' CPUs to every shard",
			m:    nps4, usable: []int{0, 1, 2}, n: 3,
			want: [][]int{{0}, {1}, {2}, {2}, {0, 1, 2}, {0, 1, 2}, {0, 1, 2}, {0, 1, 2}},
		},
		{
			name: "two shards on node 0: its unserved CPUs spread over both",
			m:    nodesOf([]int{0, 1, 2, 3}, []int{4, 5}), usable: []int{0, 1, 4}, n: 3,
			want: [][]int{{0}, {1}, {0, 1}, {0, 1}, {2}, {2}},
		},
		{
			name: "ids that are not online CPUs go to every shard",
			m:    holes, usable: []int{0, 5}, n: 0,
			want: [][]int{{0}, {0, 1}, {0, 1}, {0}, {0, 1}, {1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Plan(tc.m, tc.usable, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := Route(tc.m, plan); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Route(plan on CPUs %v) = %v, want %v", planCPUs(plan), got, tc.want)
			}
		})
	}
}

func TestRouteEmpty(t *testing.T) {
	if got := Route(&Machine{}, nil); got != nil {
		t.Errorf("Route(no CPUs) = %v, want nil", got)
	}
	if got := Route(nodesOf([]int{0}), nil); !reflect.DeepEqual(got, [][]int{{}}) {
		t.Errorf("Route(no shards) = %v, want [[]]", got)
	}
}

// TestRouteFixtures checks the rules on every fixture shape with half as
// many shards as CPUs and with shards on the first node's CPUs only.
func TestRouteFixtures(t *testing.T) {
	for _, fx := range fixtures {
		m, err := Read(filepath.Join("testdata", fx.shape, "sys"))
		if err != nil {
			t.Fatal(err)
		}
		for _, usable := range [][]int{fx.online, m.Nodes[0].CPUs} {
			plan, err := Plan(m, usable, (len(usable)+1)/2)
			if err != nil {
				t.Fatal(err)
			}
			checkRoute(t, fx.shape, m, plan, Route(m, plan))
		}
	}
}

// checkRoute asserts the three rules of Route for every online CPU.
func checkRoute(t *testing.T, shape string, m *Machine, plan []Shard, route [][]int) {
	t.Helper()
	for _, c := range m.CPUs {
		var own, node []int
		for i, s := range plan {
			if s.CPU == c.ID {
				own = append(own, i)
			}
			if s.Node == c.Node {
				node = append(node, i)
			}
		}
		want := own
		if want == nil {
			want = node
		}
		if want == nil {
			for i := range plan {
				want = append(want, i)
			}
		}
		if !reflect.DeepEqual(route[c.ID], want) {
			t.Errorf("%s, shards on %v: Route for CPU %d = %v, want %v", shape, planCPUs(plan), c.ID, route[c.ID], want)
		}
	}
}
