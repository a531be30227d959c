package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// writeFile writes data to path, creating its directories.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sysfsFiles returns the devices/system files a kernel would write for m,
// keyed by their path under the sysfs root. Without numa there is no node
// directory.
func sysfsFiles(m *Machine, numa bool) map[string]string {
	files := map[string]string{"cpu/online": FormatCPUList(m.Online()) + "\n"}
	for _, c := range m.CPUs {
		dir := fmt.Sprintf("cpu/cpu%d/", c.ID)
		if c.ID != 0 {
			files[dir+"online"] = "1\n"
		}
		files[dir+"topology/physical_package_id"] = strconv.Itoa(c.Package) + "\n"
		files[dir+"topology/die_id"] = strconv.Itoa(c.Die) + "\n"
		files[dir+"topology/core_id"] = strconv.Itoa(c.Core) + "\n"
		files[dir+"topology/cluster_id"] = strconv.Itoa(c.Cluster) + "\n"
		files[dir+"topology/thread_siblings_list"] = FormatCPUList(c.Siblings) + "\n"
	}
	if !numa {
		return files
	}
	var ids, memory []int
	for _, n := range m.Nodes {
		ids = append(ids, n.ID)
		if n.Memory {
			memory = append(memory, n.ID)
		}
		files[fmt.Sprintf("node/node%d/cpulist", n.ID)] = FormatCPUList(n.CPUs) + "\n"
		files[fmt.Sprintf("node/node%d/distance", n.ID)] = joinInts(n.Distances) + "\n"
	}
	files["node/online"] = FormatCPUList(ids) + "\n"
	files["node/possible"] = FormatCPUList(ids) + "\n"
	files["node/has_memory"] = FormatCPUList(memory) + "\n"
	return files
}

// writeTree writes files under root/devices/system and returns root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		writeFile(t, filepath.Join(root, "devices", "system", name), data)
	}
	return root
}

// twoSocketInterleaved is a 2-socket machine with 2 cores of 2 threads per
// socket whose CPU numbers alternate between sockets, with SMT siblings 4
// apart (0 and 4), as many Intel servers number them.
func twoSocketInterleaved() *Machine {
	m := &Machine{Nodes: []Node{
		{ID: 0, CPUs: []int{0, 2, 4, 6}, Memory: true, Distances: []int{10, 20}},
		{ID: 1, CPUs: []int{1, 3, 5, 7}, Memory: true, Distances: []int{20, 10}},
	}}
	for c := range 8 {
		first := c % 4
		m.CPUs = append(m.CPUs, CPU{ID: c, Core: first / 2, Package: c % 2, Cluster: first / 2,
			Node: c % 2, Siblings: []int{first, first + 4}})
	}
	return m
}

// fourCPUs is one socket of 4 cores in one node.
func fourCPUs() *Machine {
	m := FromCPUs([]int{0, 1, 2, 3})
	for i := range m.CPUs {
		m.CPUs[i].Cluster = i
	}
	return m
}

func TestReadTrees(t *testing.T) {
	gaps := &Machine{Nodes: []Node{
		{ID: 0, CPUs: []int{0, 1}, Memory: true, Distances: []int{10, 32}},
		{ID: 2, CPUs: []int{2, 3}, Memory: false, Distances: []int{32, 10}},
	}}
	for c := range 4 {
		gaps.CPUs = append(gaps.CPUs, CPU{ID: c, Core: c % 2, Package: c / 2, Cluster: c, Node: c / 2 * 2, Siblings: []int{c}})
	}
	oldKernel := fourCPUs()
	for i := range oldKernel.CPUs {
		oldKernel.CPUs[i].Cluster = -1
	}
	for _, tc := range []struct {
		name   string
		in     *Machine
		numa   bool
		change func(files map[string]string)
		want   *Machine // nil means in
	}{
		{name: "interleaved sockets, siblings 4 apart", in: twoSocketInterleaved(), numa: true},
		{name: "node ids with a gap, CPUs without memory", in: gaps, numa: true},
		{name: "no node directory", in: fourCPUs()},
		{
			name: "no die_id or cluster_id (old kernel)", in: oldKernel, numa: true,
			change: func(files map[string]string) {
				for name := range files {
					if strings.HasSuffix(name, "/die_id") || strings.HasSuffix(name, "/cluster_id") {
						delete(files, name)
					}
				}
			},
		},
		{
			name: "node/possible when node/online is absent", in: twoSocketInterleaved(), numa: true,
			change: func(files map[string]string) { delete(files, "node/online") },
		},
		{
			name: "offline CPU still in a node's cpulist", in: fourCPUs(), numa: true,
			change: func(files map[string]string) {
				files["cpu/cpu4/online"] = "0\n"
				files["node/node0/cpulist"] = "0-4\n"
			},
		},
		{
			name: "cpu0/online present", in: fourCPUs(), numa: true,
			change: func(files map[string]string) { files["cpu/cpu0/online"] = "1\n" },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := sysfsFiles(tc.in, tc.numa)
			if tc.change != nil {
				tc.change(files)
			}
			got, err := Read(writeTree(t, files))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Read = %+v,\nwant %+v", got, want)
			}
		})
	}
}

func TestReadTreeErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(files map[string]string)
		wantErr string // ROOT stands for root/devices/system
		wantIs  error
	}{
		{
			name:    "garbage in cpu/online",
			change:  func(f map[string]string) { f["cpu/online"] = "0-3,x\n" },
			wantErr: `ROOT/cpu/online: parse cpulist "0-3,x": bad CPU "x"`,
		},
		{
			name:    "empty cpu/online",
			change:  func(f map[string]string) { f["cpu/online"] = "\n" },
			wantErr: `ROOT/cpu/online: no online CPUs`,
		},
		{
			name:    "no cpu/online",
			change:  func(f map[string]string) { delete(f, "cpu/online") },
			wantErr: `open ROOT/cpu/online: no such file or directory`,
			wantIs:  fs.ErrNotExist,
		},
		{
			name:    "missing core_id",
			change:  func(f map[string]string) { delete(f, "cpu/cpu5/topology/core_id") },
			wantErr: `open ROOT/cpu/cpu5/topology/core_id: no such file or directory`,
			wantIs:  fs.ErrNotExist,
		},
		{
			name:    "garbage core_id",
			change:  func(f map[string]string) { f["cpu/cpu5/topology/core_id"] = "five\n" },
			wantErr: `ROOT/cpu/cpu5/topology/core_id: bad integer "five"`,
		},
		{
			name:    "garbage die_id",
			change:  func(f map[string]string) { f["cpu/cpu1/topology/die_id"] = "\n" },
			wantErr: `ROOT/cpu/cpu1/topology/die_id: bad integer ""`,
		},
		{
			name:    "online CPU without a directory",
			change:  func(f map[string]string) { f["cpu/online"] = "0-8\n" },
			wantErr: `ROOT/cpu/online lists CPU 8, which has no directory ROOT/cpu/cpu8`,
		},
		{
			name:    "cpuN/online disagrees with cpu/online",
			change:  func(f map[string]string) { f["cpu/cpu3/online"] = "0\n" },
			wantErr: `ROOT/cpu/cpu3/online is "0" but ROOT/cpu/online is "0-7"`,
		},
		{
			name:    "bad cpuN/online",
			change:  func(f map[string]string) { f["cpu/cpu3/online"] = "yes\n" },
			wantErr: `ROOT/cpu/cpu3/online: bad online flag "yes"`,
		},
		{
			name:    "siblings on different cores",
			change:  func(f map[string]string) { f["cpu/cpu4/topology/core_id"] = "1\n" },
			wantErr: `ROOT/cpu/cpu0/topology/thread_siblings_list is "0,4", but the online CPUs of package 0 die 0 core 0 are "0"`,
		},
		{
			name:    "sibling list missing a sibling",
			change:  func(f map[string]string) { f["cpu/cpu5/topology/thread_siblings_list"] = "5\n" },
			wantErr: `ROOT/cpu/cpu5/topology/thread_siblings_list is "5", but the online CPUs of package 1 die 0 core 0 are "1,5"`,
		},
		{
			name:    "CPU in two nodes",
			change:  func(f map[string]string) { f["node/node1/cpulist"] = "1,3,5-7\n" },
			wantErr: `CPU 6 is in both ROOT/node/node0/cpulist and ROOT/node/node1/cpulist`,
		},
		{
			name:    "online CPU in no node",
			change:  func(f map[string]string) { f["node/node1/cpulist"] = "1,3,5\n" },
			wantErr: `online CPU 7 is in no node's cpulist under ROOT/node`,
		},
		{
			name:    "distance row too short",
			change:  func(f map[string]string) { f["node/node1/distance"] = "10\n" },
			wantErr: `ROOT/node/node1/distance has 1 distances for the 2 nodes of ROOT/node/online`,
		},
		{
			name:    "garbage distance",
			change:  func(f map[string]string) { f["node/node0/distance"] = "10 far\n" },
			wantErr: `ROOT/node/node0/distance: parse distances "10 far\n": bad distance "far"`,
		},
		{
			name:    "missing distance",
			change:  func(f map[string]string) { delete(f, "node/node1/distance") },
			wantErr: `open ROOT/node/node1/distance: no such file or directory`,
			wantIs:  fs.ErrNotExist,
		},
		{
			name:    "has_memory names an unknown node",
			change:  func(f map[string]string) { f["node/has_memory"] = "0-2\n" },
			wantErr: `ROOT/node/has_memory lists node 2, which ROOT/node/online does not`,
		},
		{
			name:    "no node list",
			change:  func(f map[string]string) { delete(f, "node/online"); delete(f, "node/possible") },
			wantErr: `open ROOT/node/possible: no such file or directory`,
			wantIs:  fs.ErrNotExist,
		},
		{
			name:    "no has_memory",
			change:  func(f map[string]string) { delete(f, "node/has_memory") },
			wantErr: `open ROOT/node/has_memory: no such file or directory`,
			wantIs:  fs.ErrNotExist,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := maps.Clone(sysfsFiles(twoSocketInterleaved(), true))
			tc.change(files)
			root := writeTree(t, files)
			m, err := Read(root)
			want := strings.ReplaceAll(tc.wantErr, "ROOT", filepath.Join(root, "devices", "system"))
			if err == nil || err.Error() != want {
				t.Fatalf("Read = %+v, %v\nwant error %s", m, err, want)
			}
			if m != nil {
				t.Errorf("Read returned a machine with its error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Read error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

func TestFromCPUs(t *testing.T) {
	got := FromCPUs([]int{3, 1, 3})
	want := &Machine{
		CPUs: []CPU{
			{ID: 1, Core: 1, Cluster: -1, Siblings: []int{1}},
			{ID: 3, Core: 3, Cluster: -1, Siblings: []int{3}},
		},
		Nodes: []Node{{ID: 0, CPUs: []int{1, 3}, Memory: true, Distances: []int{10}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromCPUs = %+v, want %+v", got, want)
	}
}
