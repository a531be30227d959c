package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// checkPin checks where a running `corekv --pin-cores` placed its shards,
// from /stats and the kernel's masks: the plan of `corekv topology --json`
// under the same variant, one shard on each usable CPU, each event-loop
// thread pinned to exactly its shard's CPU in the node and package the
// Preset says, and every other thread of the process confined to the
// shards' CPUs.
func (g *guest) checkPin(s *serverproc.Process, v vmtest.Variant) (string, error) {
	plan, err := readTopology(v)
	if err != nil {
		return "", err
	}
	st, err := getStats(h1Client(), s.Addr)
	if err != nil {
		return "", err
	}
	var c collect
	g.compareShards(st, plan, v.Usable(g.layout), &c)
	pid := s.Pid
	loops := map[int]bool{}
	var detail []string
	for i, sh := range st.Shards {
		if loops[sh.TID] {
			c.addf("shard %d: thread %d also runs another shard's loop", i, sh.TID)
		}
		loops[sh.TID] = true
		c.add(wantAllowed(pid, sh.TID, strconv.Itoa(sh.CPU)))
		detail = append(detail, fmt.Sprintf("%d:cpu%d/node%d/tid%d", i, sh.CPU, sh.Node, sh.TID))
	}
	others, err := checkConfined(pid, loops, shardCPUs(st))
	c.add(err)
	detail = append(detail, fmt.Sprintf("+%d threads on %s", others, shardCPUs(st)))
	return strings.Join(detail, " "), c.err()
}

// compareShards checks the shards of /stats against the plan and the
// layout.
func (g *guest) compareShards(st *shard.Stats, plan *topology, usable []int, c *collect) {
	if st.Engine != "loop" {
		c.addf("engine %q, want loop", st.Engine)
	}
	if len(st.Shards) != len(plan.Shards) {
		c.addf("%d shards, the plan has %d", len(st.Shards), len(plan.Shards))
	}
	var cpus []int
	for i, sh := range st.Shards {
		cpus = append(cpus, sh.CPU)
		if i < len(plan.Shards) {
			p := plan.Shards[i]
			if sh.Shard != i || sh.CPU != p.CPU || sh.Core != p.Core || sh.Node != p.Node || sh.Package != p.Package {
				c.addf("shard %d: %+v, the plan says %+v", i, sh, p)
			}
		}
		want, ok := g.layout.Find(sh.CPU)
		if !ok || !sh.Pinned || sh.Node != want.Node || sh.Package != want.Package {
			c.addf("shard %d: cpu %d pinned %v node %d package %d, want pinned node %d package %d",
				i, sh.CPU, sh.Pinned, sh.Node, sh.Package, want.Node, want.Package)
		}
	}
	slices.Sort(cpus)
	if !slices.Equal(cpus, usable) {
		c.addf("shards on cpus %v, want one on each usable cpu %v", cpus, usable)
	}
}

// shardCPUs returns the shards' CPUs as a kernel cpulist.
func shardCPUs(st *shard.Stats) string {
	var cpus []int
	for _, sh := range st.Shards {
		cpus = append(cpus, sh.CPU)
	}
	slices.Sort(cpus)
	return vmtest.FormatList(cpus)
}

// checkConfined checks that every thread of pid outside skip may run on
// exactly the CPUs of want, and returns how many it checked. Threads that
// end during the walk are passed over.
func checkConfined(pid int, skip map[int]bool, want string) (int, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var c collect
	n := 0
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || skip[tid] {
			continue
		}
		err = wantAllowed(pid, tid, want)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		c.add(err)
		n++
	}
	return n, c.err()
}

// wantAllowed checks that thread tid of pid may run on exactly the CPUs of
// the cpulist want.
func wantAllowed(pid, tid int, want string) error {
	got, err := allowedList(pid, tid)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("thread %d: Cpus_allowed_list %q, want %q", tid, got, want)
	}
	return nil
}

// allowedList reads Cpus_allowed_list of one thread of pid.
func allowedList(pid, tid int) (string, error) {
	name := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no Cpus_allowed_list", name)
}
