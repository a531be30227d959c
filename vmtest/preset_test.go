package vmtest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func findPreset(t *testing.T, name string) Preset {
	t.Helper()
	for _, p := range Presets() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no preset %q", name)
	return Preset{}
}

func TestPresetsValidate(t *testing.T) {
	for _, p := range Presets() {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%s) = %v", p.Name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := findPreset(t, "2s-smt")
	tests := []struct {
		name    string
		in      func(p *Preset)
		wantErr string
	}{
		{"no threads", func(p *Preset) { p.Threads = 0 }, "must be positive"},
		{"offline cpu0", func(p *Preset) { p.Offline = []int{0} }, "cannot take CPU 0 offline"},
		{"offline past end", func(p *Preset) { p.Offline = []int{8} }, "cannot take CPU 8 offline"},
		{"cpu in no node", func(p *Preset) { p.Nodes[1].CPUs = []int{4, 5, 6} }, "CPU 7 is in no node"},
		{"cpu in two nodes", func(p *Preset) { p.Nodes[1].CPUs = []int{3, 4, 5, 6, 7} }, "repeated CPU 3"},
		{"short distances", func(p *Preset) { p.Nodes[0].Distances = []int{10} }, "node 0 distances"},
		{"self distance", func(p *Preset) { p.Nodes[1].Distances = []int{21, 11} }, "node 1 distances"},
		{"no memory", func(p *Preset) { p.Nodes = nil }, "no memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			p.Nodes = []Node{good.Nodes[0], good.Nodes[1]}
			tc.in(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestQEMUArgs(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"1s", []string{"-m", "512", "-smp", "4,sockets=1,cores=4,threads=1"}},
		{"2s-memonly", []string{
			"-m", "512", "-smp", "4,sockets=2,cores=2,threads=1",
			"-object", "memory-backend-ram,id=mem0,size=192M", "-numa", "node,nodeid=0,memdev=mem0,cpus=0-1",
			"-object", "memory-backend-ram,id=mem1,size=192M", "-numa", "node,nodeid=1,memdev=mem1,cpus=2-3",
			"-object", "memory-backend-ram,id=mem2,size=128M", "-numa", "node,nodeid=2,memdev=mem2",
			"-numa", "dist,src=0,dst=1,val=21", "-numa", "dist,src=0,dst=2,val=31", "-numa", "dist,src=1,dst=2,val=31",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := findPreset(t, tc.name).QEMUArgs(); !slices.Equal(got, tc.want) {
				t.Errorf("QEMUArgs() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFormatList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 1, 2, 4, 5, 7}, "0-2,4-5,7"},
		{[]int{1, 3, 5}, "1,3,5"},
	}
	for _, tc := range tests {
		if got := FormatList(tc.in); got != tc.want {
			t.Errorf("FormatList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLayoutOffline(t *testing.T) {
	l := findPreset(t, "offline").Layout()
	if got, want := l.IDs(), []int{0, 1, 2, 4, 5, 7}; !slices.Equal(got, want) {
		t.Fatalf("IDs() = %v, want %v", got, want)
	}
	wantCPUs := map[int]CPU{
		2: {CPU: 2, Package: 0, Core: 1, Node: 0, Siblings: []int{2}},
		4: {CPU: 4, Package: 1, Core: 0, Node: 1, Siblings: []int{4, 5}},
		7: {CPU: 7, Package: 1, Core: 1, Node: 1, Siblings: []int{7}},
	}
	for id, want := range wantCPUs {
		if got, ok := l.Find(id); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Find(%d) = %+v, %v, want %+v", id, got, ok, want)
		}
	}
	if _, ok := l.Find(3); ok {
		t.Errorf("Find(3) found an offline CPU")
	}
	wantNodes := []NodeLayout{
		{Node: 0, CPUs: []int{0, 1, 2}, Memory: true, Distances: []int{10, 21}},
		{Node: 1, CPUs: []int{4, 5, 7}, Memory: true, Distances: []int{21, 10}},
	}
	if !reflect.DeepEqual(l.Nodes, wantNodes) {
		t.Errorf("Nodes = %+v, want %+v", l.Nodes, wantNodes)
	}
}

func TestLayoutWithoutNUMA(t *testing.T) {
	l := findPreset(t, "1s").Layout()
	want := []NodeLayout{{Node: 0, CPUs: []int{0, 1, 2, 3}, Memory: true, Distances: []int{10}}}
	if !reflect.DeepEqual(l.Nodes, want) {
		t.Errorf("Nodes = %+v, want %+v", l.Nodes, want)
	}
	if c, _ := l.Find(3); c.Core != 3 || c.Package != 0 || !slices.Equal(c.Siblings, []int{3}) {
		t.Errorf("Find(3) = %+v, want core 3 of package 0 alone", c)
	}
}

func TestLayoutMemoryOnlyNode(t *testing.T) {
	l := findPreset(t, "2s-memonly").Layout()
	if n := l.Nodes[2]; len(n.CPUs) != 0 || !n.Memory || !slices.Equal(n.Distances, []int{31, 31, 10}) {
		t.Errorf("Nodes[2] = %+v, want a memory-only node at distance 31", n)
	}
	if c, _ := l.Find(2); c.Package != 1 || c.Core != 0 || c.Node != 1 {
		t.Errorf("Find(2) = %+v, want package 1 core 0 node 1", c)
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		preset         string
		node, mask     []int
		wantNodeUsable []int
	}{
		{"1s", []int{0, 1, 2, 3}, []int{1, 2}, []int{0, 1, 2, 3}},
		{"2s-smt", []int{4, 5, 6, 7}, []int{2, 3, 4, 5}, []int{4, 5, 6, 7}},
		{"offline", []int{4, 5, 7}, []int{1, 2, 4}, []int{4, 5, 7}},
		{"4node", []int{6, 7}, []int{2, 3, 4, 5}, []int{6, 7}},
		{"2s-memonly", []int{2, 3}, []int{1, 2}, []int{2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.preset, func(t *testing.T) {
			p := findPreset(t, tc.preset)
			v := p.Variants()
			if len(v) != 3 || v[0].Name != "all" || v[0].CPUs != nil || v[0].Mask != nil {
				t.Fatalf("Variants() = %+v, want all, node, taskset", v)
			}
			if !slices.Equal(v[1].CPUs, tc.node) || v[1].Mask != nil {
				t.Errorf("node variant = %+v, want --cpus %v", v[1], tc.node)
			}
			if !slices.Equal(v[2].Mask, tc.mask) || v[2].CPUs != nil {
				t.Errorf("taskset variant = %+v, want mask %v", v[2], tc.mask)
			}
			l := p.Layout()
			if got := v[0].Usable(l); !slices.Equal(got, l.IDs()) {
				t.Errorf("all.Usable() = %v, want %v", got, l.IDs())
			}
			if got := v[1].Usable(l); !slices.Equal(got, tc.wantNodeUsable) {
				t.Errorf("node.Usable() = %v, want %v", got, tc.wantNodeUsable)
			}
		})
	}
}

func TestSpecChecks(t *testing.T) {
	tests := []struct {
		name   string
		preset string
		groups []string
		want   []string
	}{
		{"boot only", "1s", nil, []string{"boot"}},
		{"offline first", "offline", []string{GroupSysfs}, []string{"boot", "offline", "sysfs"}},
		{"group order ignores flag order", "1s", []string{GroupDump, GroupTopology}, []string{
			"boot", "topology/all", "topology/node", "topology/taskset", "dump"}},
		{"numa after server", "4node", []string{GroupNUMA, GroupSysfs}, []string{
			"boot", "sysfs", "numa/default", "numa/off", "numa/interleave", "numa/local", "numa/buffers", "numa/seccomp",
			"numa/values-interleave", "numa/values-local", "numa/store-interleave", "numa/store-local"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{Preset: findPreset(t, tc.preset), Groups: tc.groups}
			if got := s.Checks(); !slices.Equal(got, tc.want) {
				t.Errorf("Checks() = %q, want %q", got, tc.want)
			}
		})
	}
	s := Spec{Preset: findPreset(t, "1s"), Groups: []string{GroupServer}}
	got := s.Checks()
	if len(got) != 1+3*9 || got[1] != "server/all/start" || got[len(got)-1] != "server/taskset/stop" {
		t.Errorf("server Checks() = %q, want boot and 9 checks for each of 3 variants", got)
	}
}

func TestSpecValidate(t *testing.T) {
	s := Spec{Preset: findPreset(t, "1s"), Groups: []string{"sysfs", "bogus"}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `unknown check group "bogus"`) {
		t.Errorf("Validate() = %v, want unknown group error", err)
	}
	if got := (Spec{}).ListenPort(); got != 8080 {
		t.Errorf("ListenPort() = %d, want default 8080", got)
	}
}
