package numa

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/corekv/corekv/topology"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Policy
		wantErr string
	}{
		{"off", "off", Off, ""},
		{"interleave", "interleave", Interleave, ""},
		{"local", "local", Local, ""},
		{"empty", "", Off, `numa: parse policy "": want off, interleave or local`},
		{"upper case", "Interleave", Off, `numa: parse policy "Interleave": want off, interleave or local`},
		{"numactl spelling", "interleave=all", Off, `numa: parse policy "interleave=all": want off, interleave or local`},
		{"space", "local ", Off, `numa: parse policy "local ": want off, interleave or local`},
		{"bind is not offered", "bind", Off, `numa: parse policy "bind": want off, interleave or local`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePolicy(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("ParsePolicy(%q) = %v, %v, want error %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParsePolicy(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"off", "interleave", "local", "", "bind", "Local"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePolicy(s)
		if err != nil {
			if !strings.Contains(err.Error(), "parse policy") {
				t.Errorf("ParsePolicy(%q) error %q does not say what failed", s, err)
			}
			return
		}
		if p.String() != s {
			t.Errorf("ParsePolicy(%q).String() = %q", s, p.String())
		}
	})
}

// readFixture reads a topology fixture tree: real /sys files of QEMU
// guests (see topology/read_test.go).
func readFixture(t *testing.T, shape string) *topology.Machine {
	t.Helper()
	m, err := topology.Read("../topology/testdata/" + shape + "/sys")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDefaultPolicy(t *testing.T) {
	tests := []struct {
		shape string
		want  Policy
	}{
		{"1s", Off},
		{"2s-smt", Interleave},
		{"2s-smt-offline", Interleave},
		{"4node", Interleave},
		{"2s-memonly", Interleave},
	}
	for _, tc := range tests {
		if got := DefaultPolicy(readFixture(t, tc.shape)); got != tc.want {
			t.Errorf("DefaultPolicy(%s) = %v, want %v", tc.shape, got, tc.want)
		}
	}
	if got := DefaultPolicy(topology.FromCPUs([]int{0, 1})); got != Off {
		t.Errorf("DefaultPolicy(FromCPUs) = %v, want off", got)
	}
}

// memorylessNode is a two-socket machine whose second socket's node has
// CPUs but no memory, and a third, memory-only node nearer to it than
// node 0 is, as with CXL memory behind socket 1.
var memorylessNode = &topology.Machine{Nodes: []topology.Node{
	{ID: 0, CPUs: []int{0, 1}, Memory: true, Distances: []int{10, 21, 31}},
	{ID: 1, CPUs: []int{2, 3}, Memory: false, Distances: []int{21, 10, 14}},
	{ID: 2, CPUs: []int{}, Memory: true, Distances: []int{31, 14, 10}},
}}

func TestHomes(t *testing.T) {
	tests := []struct {
		name     string
		m        *topology.Machine
		allowed  []int
		wantMem  []int
		wantHome map[int]int
		wantErr  string
	}{
		{"one node", readFixture(t, "1s"), nil, []int{0}, map[int]int{0: 0}, ""},
		{"two sockets", readFixture(t, "2s-smt"), nil, []int{0, 1}, map[int]int{0: 0, 1: 1}, ""},
		{"four nodes", readFixture(t, "4node"), []int{0, 1, 2, 3}, []int{0, 1, 2, 3}, map[int]int{0: 0, 1: 1, 2: 2, 3: 3}, ""},
		{"memory-only node", readFixture(t, "2s-memonly"), nil, []int{0, 1, 2}, map[int]int{0: 0, 1: 1, 2: 2}, ""},
		{"memoryless cpu node goes to the nearest", memorylessNode, nil, []int{0, 2}, map[int]int{0: 0, 1: 2, 2: 2}, ""},
		{"cpuset leaves out node 2", memorylessNode, []int{0, 1}, []int{0}, map[int]int{0: 0, 1: 0, 2: 0}, ""},
		{"equal distances go to the lower id", readFixture(t, "4node"), []int{1, 3}, []int{1, 3},
			map[int]int{0: 1, 1: 1, 2: 1, 3: 3}, ""},
		{"cpuset with no memory node", memorylessNode, []int{1}, nil, nil,
			"numa: no memory node the process may use (allowed nodes 1)"},
		{"short distance row", &topology.Machine{Nodes: []topology.Node{{ID: 0, Memory: true}}}, nil, nil, nil,
			"numa: node 0 has 0 distances for 1 nodes"},
		{"node id too large", &topology.Machine{Nodes: []topology.Node{{ID: MaxNode, Memory: true, Distances: []int{10}}}},
			nil, nil, nil, "numa: node 1024: ids must lie in 0..1023"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem, home, err := homes(tc.m, tc.allowed)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("homes() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(mem, tc.wantMem) || !maps.Equal(home, tc.wantHome) {
				t.Errorf("homes() = %v, %v, %v, want %v, %v", mem, home, err, tc.wantMem, tc.wantHome)
			}
		})
	}
}

func TestHome(t *testing.T) {
	mem, home, err := homes(memorylessNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  Policy
		node    int
		want    int
		wantErr string
	}{
		{"local on a memory node", Local, 0, 0, ""},
		{"local on a memoryless node", Local, 1, 2, ""},
		{"local, no preference", Local, -1, -1, ""},
		{"interleave still names the home", Interleave, 1, 2, ""},
		{"off places nothing", Off, 1, -1, ""},
		{"unknown node", Local, 3, 0, "numa: no node 3 on this machine"},
		{"negative node", Local, -2, 0, "numa: no node -2 on this machine"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Mapper{policy: tc.policy, mem: mem, home: home}
			got, err := m.Home(tc.node)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("Home(%d) = %d, %v, want error %q", tc.node, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Home(%d) = %d, %v, want %d", tc.node, got, err, tc.want)
			}
		})
	}
}

func TestNewNeedsMachine(t *testing.T) {
	for _, p := range []Policy{Interleave, Local} {
		_, err := New(Config{Policy: p})
		if err == nil || !strings.Contains(err.Error(), "needs Config.Machine") {
			t.Errorf("New(%v, no machine) error = %v, want one naming Config.Machine", p, err)
		}
	}
	if _, err := New(Config{Policy: Policy(7)}); err == nil || err.Error() != "numa: unknown policy Policy(7)" {
		t.Errorf("New(Policy(7)) error = %v", err)
	}
}

func TestMapBadArguments(t *testing.T) {
	m := &Mapper{policy: Local, mem: []int{0}, home: map[int]int{0: 0}}
	tests := []struct {
		size, node int
		wantErr    string
	}{
		{0, 0, "numa: map 0 bytes: want a positive size"},
		{-4096, 0, "numa: map -4096 bytes: want a positive size"},
		{4096, 1, "numa: no node 1 on this machine"},
	}
	for _, tc := range tests {
		b, err := m.Map(tc.size, tc.node)
		if err == nil || err.Error() != tc.wantErr {
			t.Errorf("Map(%d, %d) = %d bytes, %v, want error %q", tc.size, tc.node, len(b), err, tc.wantErr)
		}
	}
	for name, f := range map[string]func() error{
		"Where":    func() error { _, err := Where(nil); return err },
		"NodeOf":   func() error { _, err := NodeOf(nil); return err },
		"PolicyOf": func() error { _, _, err := PolicyOf(nil); return err },
	} {
		if err := f(); err == nil || errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s(nil) error = %v, want an empty-range error", name, err)
		}
	}
}

func TestPolicyString(t *testing.T) {
	for _, p := range []Policy{Off, Interleave, Local} {
		got, err := ParsePolicy(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePolicy(%v.String()) = %v, %v", p, got, err)
		}
	}
	if got := Policy(-1).String(); got != "Policy(-1)" {
		t.Errorf("Policy(-1).String() = %q", got)
	}
}

func TestSampleStride(t *testing.T) {
	tests := []struct{ pages, want int }{
		{0, 1},
		{residentBudget, 1},
		{residentBudget + 1, 67},    // never a stride that divides a node count up to 64
		{67 * residentBudget, 67},   // exactly the budget
		{67*residentBudget + 1, 71}, // 68 rounded up to a prime
		{16 << 20, 257},             // 64 GiB of 4 KiB pages: 256, then the next prime
	}
	for _, tc := range tests {
		if got := sampleStride(tc.pages); got != tc.want {
			t.Errorf("sampleStride(%d) = %d, want %d", tc.pages, got, tc.want)
		}
	}
}
