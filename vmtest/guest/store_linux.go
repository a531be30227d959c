package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/store"
	"github.com/corekv/corekv/vmtest"
)

// The values the placement checks store: storeCount of valueSize
// bytes, 20 MB, so that the segments the store keeps for the guest's
// life leave room on a 128 MiB node.
const (
	storeCount = 200
	valueSize  = 100 << 10
)

// checkStore runs the real store in this process, its segments mapped by
// a numa.Mapper with policy p, and writes storeCount values through a
// store.Shard for the last node with CPUs, from a thread pinned to that
// node's first CPU, as an event loop would. Resident's bytes by node must
// then show the segments spread over every memory node (interleave) or on
// the writer's node (local), and for local the store's own BytesByNode,
// by the node each segment was mapped for, must agree.
func (g *guest) checkStore(p numa.Policy) (string, error) {
	mp, err := newMapper(p)
	if err != nil {
		return "", err
	}
	c, err := store.New(store.Config{Map: mp.Map, Presize: 1024})
	if err != nil {
		return "", err
	}
	v := g.spec.Preset.Variants()[1] // "node": the last node with CPUs
	writer, _ := g.layout.Find(v.CPUs[0])
	done := make(chan error, 1)
	go func() { done <- writeStore(c, writer) }()
	if err := <-done; err != nil {
		return "", err
	}
	resident, err := mp.Resident()
	if err != nil {
		return "", err
	}
	pages := map[int]int{}
	for n, b := range resident {
		pages[n] = int(b / int64(os.Getpagesize()))
	}
	st := c.Stats()
	detail := fmt.Sprintf("writer cpu %d node %d, %d segments, resident %s, BytesByNode %v", writer.CPU, writer.Node,
		st.Segments, segment{where: numa.Placement{Pages: pages}}.counts(), st.BytesByNode)
	var col collect
	col.add(g.wantValues(p, writer.Node, pages, storeCount))
	if p == numa.Local {
		byNode := st.BytesByNode
		if len(byNode) <= writer.Node+1 || byNode[writer.Node+1] != st.ArenaBytes {
			col.addf("BytesByNode %v, want all %d arena bytes at node %d", byNode, st.ArenaBytes, writer.Node)
		}
	}
	return detail, col.err()
}

// writeStore writes the values through a store.Shard for writer's node, on
// a thread pinned to writer's CPU that ends with the goroutine.
func writeStore(c *store.Cache, writer vmtest.CPU) error {
	if err := affinity.Pin([]int{writer.CPU}); err != nil {
		return err
	}
	sh := c.NewShard(writer.Node)
	defer sh.Close()
	value := []byte(strings.Repeat("s", valueSize))
	for i := range storeCount {
		if err := sh.Set(fmt.Appendf(nil, "store-%d", i), value, 0); err != nil {
			return fmt.Errorf("set value %d: %w", i, err)
		}
		sh.Quiescent(time.Now())
	}
	got, _, ok := sh.Get([]byte("store-0"))
	if !ok || len(got) != valueSize {
		return fmt.Errorf("get store-0: %d bytes, found %v", len(got), ok)
	}
	return nil
}

// wantValues checks the pages of the memory placed under p: at least the
// pages of count values, and for interleave within one page per
// 1 MiB segment of an even share on every memory node, for local all on
// the writers' node.
func (g *guest) wantValues(p numa.Policy, writer int, pages map[int]int, count int) error {
	total := 0
	for _, c := range pages {
		total += c
	}
	ps := os.Getpagesize()
	if least := count * valueSize / ps; total < least {
		return fmt.Errorf("%d pages in the store's mappings, want at least the %d the values fill", total, least)
	}
	if p == numa.Local {
		if pages[writer] != total {
			return fmt.Errorf("pages %v, want all %d on node %d", pages, total, writer)
		}
		return nil
	}
	mem := g.memoryNodes()
	slack := total/(segmentSize/ps) + 1
	var c collect
	for _, n := range mem {
		if d := pages[n] - total/len(mem); d < -slack || d > slack {
			c.addf("node %d holds %d of %d pages, want %d ± %d", n, pages[n], total, total/len(mem), slack)
		}
	}
	for n := range pages {
		if !slices.Contains(mem, n) {
			c.addf("%d pages on node %d, not a memory node", pages[n], n)
		}
	}
	return c.err()
}
