package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/vmtest"
)

// numaVMA is one line of /proc/PID/numa_maps: a mapping's policy and its
// resident pages per node.
type numaVMA struct {
	addr   string
	policy string // "default", "prefer:1", "interleave:0-3", ...
	pages  map[int]int
}

// readNUMAMaps reads and parses /proc/PID/numa_maps.
func readNUMAMaps(pid int) ([]numaVMA, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/numa_maps", pid))
	if err != nil {
		return nil, err
	}
	return parseNUMAMaps(string(data))
}

// parseNUMAMaps parses /proc/PID/numa_maps.
func parseNUMAMaps(text string) ([]numaVMA, error) {
	var out []numaVMA
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("numa_maps line %q: want an address and a policy", line)
		}
		v := numaVMA{addr: f[0], policy: f[1], pages: map[int]int{}}
		for _, kv := range f[2:] {
			var node, n int
			if k, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "N") {
				if _, err := fmt.Sscanf(k+" "+val, "N%d %d", &node, &n); err != nil {
					return nil, fmt.Errorf("numa_maps line %q: bad count %q", strings.TrimSpace(line), kv)
				}
				v.pages[node] += n
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// checkBuffers starts `corekv --pin-cores` on every CPU, spreads
// connections over its shards so that every loop reads into its buffers,
// and checks in /proc/PID/numa_maps that each node with shards has
// mappings preferred on it (prefer:N) whose resident pages all lie on it.
func (g *guest) checkBuffers(port int) (string, error) {
	// --steer=hash: the kernel's hash spreads the guest's connections over
	// every shard; steering by CPU would give them all to the shards of
	// the few CPUs the guest program runs on.
	srv, err := startServer(vmtest.Variant{Name: "all"}, port, "--steer=hash")
	if err != nil {
		return "", err
	}
	defer srv.Stop()
	if _, err := checkSpread(srv.Addr, 1, g.layout.IDs()); err != nil {
		return "", err
	}
	vmas, err := readNUMAMaps(srv.Pid)
	if err != nil {
		return "", err
	}
	var c collect
	var detail []string
	for _, n := range g.layout.Nodes {
		if len(n.CPUs) == 0 {
			continue
		}
		want := fmt.Sprintf("prefer:%d", n.Node)
		found := 0
		for _, v := range vmas {
			if v.policy != want {
				continue
			}
			found++
			detail = append(detail, fmt.Sprintf("%s %s", want, segment{where: numa.Placement{Pages: v.pages}}.counts()))
			if v.pages[n.Node] == 0 || len(v.pages) != 1 {
				c.addf("%s mapping at %s: pages %v, want some, all on node %d", want, v.addr, v.pages, n.Node)
			}
		}
		if found == 0 {
			c.addf("no mapping with policy %s for the shards of node %d", want, n.Node)
		}
	}
	return strings.Join(detail, "; "), c.err()
}
