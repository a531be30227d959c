package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// valueCount is how many values of valueSize the end-to-end checks
// store at most: about 50 MB.
const valueCount = 500

// checkValues starts `corekv --pin-cores --numa-memory=p` on the CPUs of
// the node with CPUs that has the most free memory, so that every write
// comes from that node, stores values there and reads
// /proc/PID/numa_maps: the store's segments (the mappings with p's
// policy) must hold the values, spread evenly over every memory node for
// interleave, all on the writers' node for local. It stores valueCount
// values, or fewer where that would take more than a quarter of the free
// memory of the nodes they go to: a node that comes near its low
// watermark makes the kernel place pages elsewhere, by design of
// MPOL_PREFERRED (the 128 MiB nodes of 4node spilled 21 of 12544 pages
// at half).
func (g *guest) checkValues(p numa.Policy, port int) (string, error) {
	free, err := freeMemory(g.layout)
	if err != nil {
		return "", err
	}
	writer := -1
	for _, n := range g.layout.Nodes {
		if len(n.CPUs) > 0 && (writer < 0 || free[n.Node] > free[writer]) {
			writer = n.Node
		}
	}
	room := free[writer]
	if p == numa.Interleave {
		mem := g.memoryNodes()
		room = free[mem[0]]
		for _, n := range mem {
			room = min(room, free[n])
		}
		room *= int64(len(mem))
	}
	count := int(min(valueCount, room/4/valueSize))
	if count < valueCount/10 {
		return "", fmt.Errorf("free memory by node %v leaves room for %d values of %d bytes, want at least %d", free, count, valueSize, valueCount/10)
	}
	v := vmtest.Variant{Name: "node", CPUs: g.layout.Nodes[writer].CPUs}
	srv, err := startServer(v, port, "--numa-memory="+p.String())
	if err != nil {
		return "", err
	}
	defer srv.Stop()
	if err := storeValues(srv.Addr, count); err != nil {
		return "", err
	}
	vmas, err := readNUMAMaps(srv.Pid)
	if err != nil {
		return "", err
	}
	want := "prefer:" + fmt.Sprint(writer)
	if p == numa.Interleave {
		want = "interleave:" + vmtest.FormatList(g.memoryNodes())
	}
	pages, n := map[int]int{}, 0
	for _, vma := range vmas {
		if vma.policy == want {
			n++
			for node, c := range vma.pages {
				pages[node] += c
			}
		}
	}
	st, err := getStats(h1Client(), srv.Addr)
	if err != nil {
		return "", err
	}
	detail := fmt.Sprintf("%d values of %d KiB from node %d's CPUs, %d mappings %s: %s; /stats resident_by_node %v",
		count, valueSize>>10, writer, n, want, segment{where: numa.Placement{Pages: pages}}.counts(), st.ResidentByNode)
	var c collect
	c.add(g.wantValues(p, writer, pages, count))
	c.add(wantResident(p, st, pages))
	return detail, c.err()
}

// wantResident checks /stats' resident_by_node against the pages of the
// mappings with the policy under test. Interleaved, those mappings are
// the store's segments and nothing else: the bytes must match page for
// page. Local, the shard buffers share the policy, so the store's bytes
// must lie on the same nodes and be no more.
func wantResident(p numa.Policy, st *shard.Stats, pages map[int]int) error {
	if st.ResidentError != "" {
		return fmt.Errorf("/stats resident_error %q", st.ResidentError)
	}
	ps := int64(os.Getpagesize())
	for n, b := range st.ResidentByNode {
		mapped := int64(pages[n]) * ps
		if p == numa.Interleave && b != mapped || b > mapped {
			return fmt.Errorf("/stats resident_by_node %v, numa_maps pages %v", st.ResidentByNode, pages)
		}
	}
	if len(st.ResidentByNode) != len(pages) {
		return fmt.Errorf("/stats resident_by_node %v, numa_maps pages %v: other nodes", st.ResidentByNode, pages)
	}
	return nil
}

// freeMemory returns each memory node's free memory in bytes, from
// /sys/devices/system/node/nodeN/meminfo.
func freeMemory(l vmtest.Layout) (map[int]int64, error) {
	free := map[int]int64{}
	for _, n := range l.Nodes {
		if !n.Memory {
			continue
		}
		name := fmt.Sprintf("/sys/devices/system/node/node%d/meminfo", n.Node)
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		kb, err := memFree(string(data), n.Node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		free[n.Node] = kb << 10
	}
	return free, nil
}

// memFree returns the MemFree line of a nodeN/meminfo file, in kB.
func memFree(meminfo string, node int) (int64, error) {
	prefix := fmt.Sprintf("Node %d MemFree:", node)
	for line := range strings.Lines(meminfo) {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			var kb int64
			if _, err := fmt.Sscanf(rest, "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("bad line %q", strings.TrimSpace(line))
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no %q line", prefix)
}

// storeValues stores count values over one connection.
func storeValues(addr string, count int) error {
	c, err := dialH1(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	value := strings.Repeat("v", valueSize)
	for i := range count {
		if code, body, err := c.do("POST", fmt.Sprintf("/store/numa-%d", i), value); err != nil || code != 200 {
			return fmt.Errorf("POST /store/numa-%d: %d %q %v", i, code, body, err)
		}
	}
	return nil
}
