package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/numa"
	topo "github.com/corekv/corekv/topology"
	"github.com/corekv/corekv/vmtest"
)

// segmentSize is the size of the memory each placement check maps: one
// arena segment of the store.
const segmentSize = 1 << 20

// checkNUMA runs the numa group: the default policy, then, for each
// policy, one segment mapped for each node that has CPUs.
func (g *guest) checkNUMA() {
	detail, err := g.checkDefault()
	g.report("numa/default", detail, err)
	for _, p := range []numa.Policy{numa.Off, numa.Interleave, numa.Local} {
		detail, err := g.checkPolicy(p)
		g.report("numa/"+p.String(), detail, err)
	}
	detail, err = g.checkBuffers(g.spec.ListenPort() + 10)
	g.report("numa/buffers", detail, err)
	detail, err = g.checkSeccomp(g.spec.ListenPort() + 13)
	g.report("numa/seccomp", detail, err)
	// The servers' memory goes back when they exit; the store of the
	// in-process checks keeps its segments, so those come last.
	for i, p := range []numa.Policy{numa.Interleave, numa.Local} {
		detail, err := g.checkValues(p, g.spec.ListenPort()+11+i)
		g.report("numa/values-"+p.String(), detail, err)
	}
	for _, p := range []numa.Policy{numa.Interleave, numa.Local} {
		detail, err := g.checkStore(p)
		g.report("numa/store-"+p.String(), detail, err)
	}
}

// memoryNodes returns the ids of the layout's nodes with memory.
func (g *guest) memoryNodes() []int {
	var ids []int
	for _, n := range g.layout.Nodes {
		if n.Memory {
			ids = append(ids, n.Node)
		}
	}
	return ids
}

// checkDefault turns automatic NUMA balancing off, so that the kernel
// moves no page while the checks look, and checks DefaultPolicy against
// the layout: interleave with several memory nodes, off with one.
func (g *guest) checkDefault() (string, error) {
	balancing := "numa_balancing=0"
	err := os.WriteFile("/proc/sys/kernel/numa_balancing", []byte("0"), 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		balancing, err = "no numa_balancing", nil
	}
	if err != nil {
		return "", err
	}
	m, err := topo.Read(topo.DefaultRoot)
	if err != nil {
		return "", err
	}
	want := numa.Off
	if len(g.memoryNodes()) > 1 {
		want = numa.Interleave
	}
	if got := numa.DefaultPolicy(m); got != want {
		return "", fmt.Errorf("DefaultPolicy = %v with memory nodes %v, want %v", got, g.memoryNodes(), want)
	}
	return fmt.Sprintf("%v for memory nodes %s, %s", want, vmtest.FormatList(g.memoryNodes()), balancing), nil
}

// newMapper makes a numa.Mapper with policy p for the machine the guest
// reads from sysfs.
func newMapper(p numa.Policy) (*numa.Mapper, error) {
	m, err := topo.Read(topo.DefaultRoot)
	if err != nil {
		return nil, err
	}
	return numa.New(numa.Config{Policy: p, Machine: m})
}

// checkPolicy maps a segment for each node with CPUs under p, writes it
// from a thread pinned to a CPU and checks where its pages are. Under
// Local the writer runs on the next node with CPUs, where there is one,
// so that the pages land on the asked-for node by policy and not by
// first touch.
func (g *guest) checkPolicy(p numa.Policy) (string, error) {
	mp, err := newMapper(p)
	if err != nil {
		return "", err
	}
	var cpuNodes []vmtest.NodeLayout
	for _, n := range g.layout.Nodes {
		if len(n.CPUs) > 0 {
			cpuNodes = append(cpuNodes, n)
		}
	}
	var c collect
	var detail []string
	for i, n := range cpuNodes {
		writer := n
		if p == numa.Local {
			writer = cpuNodes[(i+1)%len(cpuNodes)]
		}
		s, err := placeSegment(mp, n.Node, writer.CPUs[0])
		if err != nil {
			c.add(fmt.Errorf("node %d: %w", n.Node, err))
			continue
		}
		detail = append(detail, fmt.Sprintf("for node %d written on cpu %d: %s", n.Node, writer.CPUs[0], s.counts()))
		c.add(g.wantPlacement(p, n.Node, writer.Node, s))
	}
	return strings.Join(detail, "; "), c.err()
}

// segment is what the kernel says about one written segment.
type segment struct {
	where  numa.Placement
	policy numa.Policy
	nodes  []int // the policy's nodes
	// spot holds get_mempolicy's node for the first pages, and want
	// what move_pages says of each.
	spot, spotWant []int
	// resident is the Mapper's Resident: bytes by node of its mappings,
	// this segment alone.
	resident map[int]int64
}

// counts formats the pages per node as numa_maps does: "N0=128 N1=128".
func (s segment) counts() string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(s.where.Pages)) {
		out = append(out, fmt.Sprintf("N%d=%d", n, s.where.Pages[n]))
	}
	if s.where.Absent > 0 {
		out = append(out, fmt.Sprintf("absent=%d", s.where.Absent))
	}
	return strings.Join(out, " ")
}

// placeSegment maps a segment for node on a thread pinned to cpu, writes
// one byte in each page and queries the kernel. The pinned thread ends
// with its goroutine.
func placeSegment(mp *numa.Mapper, node, cpu int) (segment, error) {
	type result struct {
		s   segment
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		if r.err = affinity.Pin([]int{cpu}); r.err != nil {
			return
		}
		r.s, r.err = writeAndQuery(mp, node)
	}()
	r := <-done
	return r.s, r.err
}

func writeAndQuery(mp *numa.Mapper, node int) (segment, error) {
	b, err := mp.Map(segmentSize, node)
	if err != nil {
		return segment{}, err
	}
	defer mp.Unmap(b)
	ps := os.Getpagesize()
	for i := 0; i < len(b); i += ps {
		b[i] = 1
	}
	var s segment
	if s.where, err = numa.Where(b); err != nil {
		return s, err
	}
	if s.policy, s.nodes, err = numa.PolicyOf(b); err != nil {
		return s, err
	}
	if s.resident, err = mp.Resident(); err != nil {
		return s, err
	}
	for i := range 4 {
		page := b[i*ps : (i+1)*ps]
		n, err := numa.NodeOf(page)
		if err != nil {
			return s, err
		}
		one, err := numa.Where(page[:1])
		if err != nil {
			return s, err
		}
		s.spot = append(s.spot, n)
		s.spotWant = append(s.spotWant, slices.Collect(maps.Keys(one.Pages))...)
	}
	return s, nil
}

// wantPlacement checks a segment mapped for node under p and written on
// writer's CPU.
func (g *guest) wantPlacement(p numa.Policy, node, writer int, s segment) error {
	var c collect
	pages := segmentSize / s.where.PageSize
	if s.where.Absent != 0 {
		c.addf("%d of %d written pages absent", s.where.Absent, pages)
	}
	for n, pages := range s.where.Pages {
		if s.resident[n] != int64(pages*s.where.PageSize) || len(s.resident) != len(s.where.Pages) {
			c.addf("Resident() = %v bytes by node, want the segment's pages %s", s.resident, s.counts())
			break
		}
	}
	if !slices.Equal(s.spot, s.spotWant) {
		c.addf("get_mempolicy puts the first pages on nodes %v, move_pages on %v", s.spot, s.spotWant)
	}
	mem := g.memoryNodes()
	switch p {
	case numa.Off:
		c.add(wantAll(s, writer, pages))
		if s.policy != numa.Off {
			c.addf("policy %v %v, want none", s.policy, s.nodes)
		}
	case numa.Local:
		c.add(wantAll(s, node, pages))
		if s.policy != numa.Local || !slices.Equal(s.nodes, []int{node}) {
			c.addf("policy %v %v, want local [%d]", s.policy, s.nodes, node)
		}
	case numa.Interleave:
		lo, hi := pages/len(mem), (pages+len(mem)-1)/len(mem)
		for _, n := range mem {
			if got := s.where.Pages[n]; got < lo || got > hi {
				c.addf("node %d holds %d pages, want %d..%d of %d over nodes %v", n, got, lo, hi, pages, mem)
			}
		}
		if len(s.where.Pages) != len(mem) {
			c.addf("pages on nodes %s, want only %v", s.counts(), mem)
		}
		if s.policy != numa.Interleave || !slices.Equal(s.nodes, mem) {
			c.addf("policy %v %v, want interleave %v", s.policy, s.nodes, mem)
		}
	}
	return c.err()
}

// wantAll checks that every page of s is on node.
func wantAll(s segment, node, pages int) error {
	if s.where.Pages[node] != pages {
		return fmt.Errorf("pages %s, want all %d on node %d", s.counts(), pages, node)
	}
	return nil
}
