package topology

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// lscpuRow is one line of lscpu -p=CPU,CORE,SOCKET,NODE.
type lscpuRow struct{ cpu, core, socket, node int }

func readLscpu(t *testing.T) []lscpuRow {
	t.Helper()
	path, err := exec.LookPath("lscpu")
	if err != nil {
		t.Skipf("lscpu not installed: %v", err)
	}
	out, err := exec.Command(path, "-p=CPU,CORE,SOCKET,NODE").Output()
	if err != nil {
		t.Fatalf("lscpu: %v", err)
	}
	var rows []lscpuRow
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 {
			t.Fatalf("lscpu line %q: want 4 fields", line)
		}
		var v [4]int
		for i, s := range f {
			if s == "" && i == 3 {
				continue // no NUMA: lscpu leaves NODE empty, Read says node 0
			}
			if v[i], err = strconv.Atoi(s); err != nil {
				t.Fatalf("lscpu line %q: %v", line, err)
			}
		}
		rows = append(rows, lscpuRow{v[0], v[1], v[2], v[3]})
	}
	return rows
}

// TestReadLive compares Read(DefaultRoot) with lscpu and the node
// distance files on the machine running the test.
func TestReadLive(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultRoot, "devices/system/cpu/online")); err != nil {
		t.Skipf("no sysfs CPU information here: %v", err)
	}
	rows := readLscpu(t)
	m, err := Read(DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(m.CPUs) {
		t.Fatalf("lscpu lists %d CPUs, Read found %d", len(rows), len(m.CPUs))
	}
	// lscpu may number cores its own way; the cores must group the same
	// CPUs either way.
	byLscpu, byRead := map[[2]int][]int{}, map[coreKey][]int{}
	for i, r := range rows {
		c := m.CPUs[i]
		if c.ID != r.cpu || c.Package != r.socket || c.Node != r.node {
			t.Errorf("CPU %d: package %d node %d, lscpu says CPU %d socket %d node %d",
				c.ID, c.Package, c.Node, r.cpu, r.socket, r.node)
		}
		byLscpu[[2]int{r.socket, r.core}] = append(byLscpu[[2]int{r.socket, r.core}], r.cpu)
		byRead[coreKey{c.Package, c.Die, c.Core}] = append(byRead[coreKey{c.Package, c.Die, c.Core}], c.ID)
	}
	for _, c := range m.CPUs {
		r := rows[slices.IndexFunc(rows, func(r lscpuRow) bool { return r.cpu == c.ID })]
		if want := byLscpu[[2]int{r.socket, r.core}]; !slices.Equal(byRead[coreKey{c.Package, c.Die, c.Core}], want) ||
			!slices.Equal(c.Siblings, want) {
			t.Errorf("CPU %d shares its core with %v (siblings %v), lscpu says %v",
				c.ID, byRead[coreKey{c.Package, c.Die, c.Core}], c.Siblings, want)
		}
	}
	checkLiveDistances(t, m)
}

// checkLiveDistances compares each node's distances with its distance
// file, read here without the package's parser.
func checkLiveDistances(t *testing.T, m *Machine) {
	files, _ := filepath.Glob(filepath.Join(DefaultRoot, "devices/system/node/node*/distance"))
	if len(files) == 0 {
		if len(m.Nodes) != 1 || !slices.Equal(m.Nodes[0].Distances, []int{10}) {
			t.Errorf("no NUMA in sysfs, but Read found nodes %+v", m.Nodes)
		}
		return
	}
	if len(files) != len(m.Nodes) {
		t.Errorf("%d node distance files, Read found %d nodes", len(files), len(m.Nodes))
	}
	for _, n := range m.Nodes {
		data, err := os.ReadFile(filepath.Join(DefaultRoot, "devices/system/node", "node"+strconv.Itoa(n.ID), "distance"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := joinInts(n.Distances), strings.Join(strings.Fields(string(data)), " "); got != want {
			t.Errorf("node %d distances %q, sysfs says %q", n.ID, got, want)
		}
	}
}
