package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// steerConns is how many connections checkSteer opens from each CPU.
const steerConns = 4

// onCPU runs f on a thread pinned to cpu and returns its error. The
// thread is never unpinned: it ends with its goroutine.
func onCPU(cpu int, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		if err := affinity.Pin([]int{cpu}); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// checkSteer checks corekv's --steer=cpu (the default with --pin-cores)
// from outside: from a thread pinned to each online CPU in turn it opens
// steerConns connections (over loopback the kernel processes each SYN on
// the sending CPU) and reads in /stats which shards accepted them. They
// must all land on the shard of that CPU; on a CPU without one, on shards
// of the CPU's node; on a node without shards, anywhere.
func (g *guest) checkSteer(addr string) (string, error) {
	ctl, err := dialH1(addr)
	if err != nil {
		return "", err
	}
	defer ctl.Close()
	before, err := statsOver(ctl)
	if err != nil {
		return "", err
	}
	var errs, detail []string
	for _, cpu := range g.layout.IDs() {
		var conns []*h1Conn
		err := onCPU(cpu, func() error {
			for range steerConns {
				c, err := dialH1(addr)
				if err != nil {
					return err
				}
				conns = append(conns, c)
			}
			return nil
		})
		for _, c := range conns {
			if err == nil {
				_, _, err = c.get("/") // answered: accepted
			}
		}
		after, serr := statsOver(ctl)
		for _, c := range conns {
			c.Close()
		}
		if err = errors.Join(err, serr); err != nil {
			return "", fmt.Errorf("from CPU %d: %w", cpu, err)
		}
		d, verr := steerVerdict(g.layout, before, after, cpu)
		detail = append(detail, d)
		if verr != nil {
			errs = append(errs, verr.Error())
		}
		before = after
	}
	if errs != nil {
		return "", errors.New(strings.Join(errs, "; "))
	}
	return strings.Join(detail, " "), nil
}

// steerWant returns the shards that may take a connection from cpu: the
// shard on it, else those on its node, else every shard.
func steerWant(l vmtest.Layout, st *shard.Stats, cpu int) (want []int, why string) {
	node := -1
	if c, ok := l.Find(cpu); ok {
		node = c.Node
	}
	var all, onNode []int
	for _, s := range st.Shards {
		if s.CPU == cpu {
			return []int{s.Shard}, "own"
		}
		all = append(all, s.Shard)
		if s.Node == node {
			onNode = append(onNode, s.Shard)
		}
	}
	if onNode != nil {
		return onNode, fmt.Sprintf("node%d", node)
	}
	return all, "any"
}

// steerVerdict compares the shards' accepts between two /stats with what
// steerWant allows for steerConns connections from cpu. The detail reads
// "cpu→shards(why)".
func steerVerdict(l vmtest.Layout, before, after *shard.Stats, cpu int) (string, error) {
	if len(after.Shards) != len(before.Shards) {
		return "", fmt.Errorf("shard count changed from %d to %d", len(before.Shards), len(after.Shards))
	}
	want, why := steerWant(l, after, cpu)
	var got []string
	var total uint64
	var stray []int
	for i, s := range after.Shards {
		d := s.Accepted - before.Shards[i].Accepted
		if d == 0 {
			continue
		}
		total += d
		got = append(got, fmt.Sprintf("%d:+%d", s.Shard, d))
		if !slices.Contains(want, s.Shard) {
			stray = append(stray, s.Shard)
		}
	}
	detail := fmt.Sprintf("%d→%s(%s)", cpu, strings.Join(got, ","), why)
	switch {
	case total != steerConns:
		return detail, fmt.Errorf("from CPU %d: %d connections accepted, want %d", cpu, total, steerConns)
	case stray != nil:
		return detail, fmt.Errorf("from CPU %d: shards %v accepted connections, want only shards %v (%s)", cpu, stray, want, why)
	}
	return detail, nil
}
