package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// facts are what the sysfs files under root say, each file parsed on its
// own but not yet checked against the others: that is build's job.
type facts struct {
	root   string
	online []int // cpu/online
	// onlineFlag maps each cpuN directory to its cpuN/online file: "1",
	// "0", or "" where the file is absent (a CPU that cannot be taken
	// offline).
	onlineFlag map[int]string
	cpus       map[int]cpuFacts // the online CPUs' topology directories
	numa       bool             // whether devices/system/node exists
	nodeList   string           // "online" or "possible": where nodeIDs came from
	nodeIDs    []int
	memory     []int // node/has_memory
	nodes      map[int]nodeFacts
}

// cpuFacts holds one cpuN/topology directory.
type cpuFacts struct {
	pkg, die, core, cluster int
	siblings                []int
}

// nodeFacts holds one nodeN directory.
type nodeFacts struct {
	cpus      []int
	distances []int
}

// path returns the file name of rel under root/devices/system.
func (f *facts) path(rel string) string {
	return filepath.Join(f.root, "devices", "system", rel)
}

// readFacts reads every file build needs. Files that some kernels lack are
// optional; every other file must exist and parse.
func readFacts(root string) (*facts, error) {
	f := &facts{root: root, onlineFlag: map[int]string{}, cpus: map[int]cpuFacts{}, nodes: map[int]nodeFacts{}}
	var err error
	if f.online, err = readCPUList(f.path("cpu/online")); err != nil {
		return nil, err
	}
	if err := f.readOnlineFlags(); err != nil {
		return nil, err
	}
	for _, c := range f.online {
		if _, ok := f.onlineFlag[c]; !ok {
			continue // no cpuN directory: build reports it
		}
		if f.cpus[c], err = f.readCPU(c); err != nil {
			return nil, err
		}
	}
	if err := f.readNodes(); err != nil {
		return nil, err
	}
	return f, nil
}

// readOnlineFlags reads cpuN/online for every cpuN directory.
func (f *facts) readOnlineFlags() error {
	entries, err := os.ReadDir(f.path("cpu"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		id, ok := cpuDirID(e.Name())
		if !ok {
			continue
		}
		data, err := os.ReadFile(f.path(fmt.Sprintf("cpu/cpu%d/online", id)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		f.onlineFlag[id] = strings.TrimSpace(string(data))
	}
	return nil
}

// cpuDirID returns N for a directory named cpuN, and false for the other
// entries of devices/system/cpu (cpufreq, cpuidle, ...).
func cpuDirID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "cpu")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(rest)
	return id, err == nil && strconv.Itoa(id) == rest
}

// readCPU reads the topology directory of online CPU c.
func (f *facts) readCPU(c int) (cpuFacts, error) {
	dir := fmt.Sprintf("cpu/cpu%d/topology/", c)
	cf := cpuFacts{die: 0, cluster: -1}
	var err error
	if cf.pkg, err = readInt(f.path(dir + "physical_package_id")); err != nil {
		return cf, err
	}
	if cf.core, err = readInt(f.path(dir + "core_id")); err != nil {
		return cf, err
	}
	if err = readOptionalInt(f.path(dir+"die_id"), &cf.die); err != nil {
		return cf, err
	}
	if err = readOptionalInt(f.path(dir+"cluster_id"), &cf.cluster); err != nil {
		return cf, err
	}
	cf.siblings, err = readCPUList(f.path(dir + "thread_siblings_list"))
	return cf, err
}

// readNodes reads devices/system/node, if the kernel has it.
func (f *facts) readNodes() error {
	_, err := os.Stat(f.path("node"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a kernel built without NUMA
	}
	if err != nil {
		return err
	}
	f.numa = true
	if err := f.readNodeIDs(); err != nil {
		return err
	}
	if f.memory, err = readCPUList(f.path("node/has_memory")); err != nil {
		return err
	}
	for _, n := range f.nodeIDs {
		var nf nodeFacts
		if nf.cpus, err = readCPUList(f.path(fmt.Sprintf("node/node%d/cpulist", n))); err != nil {
			return err
		}
		if nf.distances, err = readDistances(f.path(fmt.Sprintf("node/node%d/distance", n))); err != nil {
			return err
		}
		f.nodes[n] = nf
	}
	return nil
}

// readNodeIDs reads node/online, or node/possible where online is absent.
func (f *facts) readNodeIDs() error {
	var err error
	for _, name := range []string{"online", "possible"} {
		f.nodeList = name
		f.nodeIDs, err = readCPUList(f.path("node/" + name))
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// readCPUList reads a file in cpulist syntax. Node lists share the syntax.
func readCPUList(name string) ([]int, error) {
	return readParsed(name, func(s string) ([]int, error) { return ParseCPUList(strings.TrimSpace(s)) })
}

// readParsed reads the file name and parses its text with parse; a parse
// error names the file.
func readParsed[T any](name string, parse func(string) (T, error)) (T, error) {
	var zero T
	data, err := os.ReadFile(name)
	if err != nil {
		return zero, err
	}
	v, err := parse(string(data))
	if err != nil {
		return zero, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// readInt reads a file holding one decimal integer, such as core_id.
func readInt(name string) (int, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, fmt.Errorf("%s: bad integer %q", name, text)
	}
	return n, nil
}

// readOptionalInt is readInt for a file that older kernels lack: it
// leaves *n alone if the file does not exist.
func readOptionalInt(name string, n *int) error {
	v, err := readInt(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		*n = v
	}
	return err
}

// readDistances reads a nodeN/distance file.
func readDistances(name string) ([]int, error) {
	return readParsed(name, parseDistances)
}

// parseDistances parses a row of the node distance table: space-separated
// decimal distances, "10 21". The kernel's distances fit in a byte.
func parseDistances(s string) ([]int, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("parse distances %q: empty row", s)
	}
	row := make([]int, len(fields))
	for i, field := range fields {
		d, err := strconv.Atoi(field)
		if err != nil || d < 1 || d > 255 || strconv.Itoa(d) != field {
			return nil, fmt.Errorf("parse distances %q: bad distance %q", s, field)
		}
		row[i] = d
	}
	return row, nil
}
