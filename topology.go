package main

import (
	"cmp"
	"fmt"
	"log"
	"os"
	"runtime"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/topology"
)

func (t *topologyCmd) Run(logger *log.Logger) error {
	var h host
	if t.Sysfs != "" {
		h = sysfsHost(t.Sysfs)
	} else {
		h = liveHost(logger)
	}
	usable, plan, err := t.plan(h)
	if err != nil {
		return err
	}
	r := topology.NewReport(h.machine, usable, plan)
	if t.Sysfs == "" || t.Procfs != "" {
		r.Network = readNetwork(cmp.Or(t.Sysfs, topology.DefaultRoot), cmp.Or(t.Procfs, topology.DefaultProcRoot), h.machine, plan, logger.Printf)
	}
	if t.JSON {
		return r.WriteJSON(os.Stdout)
	}
	return r.WriteTable(os.Stdout)
}

// host is a machine to place shards on, as read from a sysfs tree.
type host struct {
	machine *topology.Machine
	err     error // reading the machine failed
	// allowed are the CPUs the process may run on; nil means every
	// online CPU.
	allowed []int
	// maxShards caps the default shard count; 0 means no cap.
	maxShards int
}

// liveHost reads this machine: its /sys, narrowed to the process's
// affinity mask, with the default shard count capped by the CPU quota.
// When /sys cannot be read, the allowed CPUs count as one node.
func liveHost(logger *log.Logger) host {
	h := host{maxShards: runtime.GOMAXPROCS(0)} // GOMAXPROCS honours the cgroup CPU quota
	var err error
	if h.allowed, err = affinity.Allowed(); err != nil {
		logger.Printf("cannot read the process's CPU affinity (%v): using every online CPU", err)
		h.allowed = nil
	}
	h.machine, h.err = topology.Read(topology.DefaultRoot)
	if h.err != nil && h.allowed != nil {
		logger.Printf("cannot read the topology (%v): treating the %d allowed CPUs as one node", h.err, len(h.allowed))
		h.machine, h.err = topology.FromCPUs(h.allowed), nil
	}
	return h
}

// sysfsHost reads the sysfs tree at root, whose online CPUs are all usable.
func sysfsHost(root string) host {
	m, err := topology.Read(root)
	return host{machine: m, err: err}
}

// plan picks the usable CPUs of h (--cpus) and plans the shards on them
// (--shards).
func (p *placement) plan(h host) (usable []int, plan []topology.Shard, err error) {
	if h.err != nil {
		return nil, nil, h.err
	}
	var want []int
	if p.CPUs != "" {
		if want, err = topology.ParseCPUList(p.CPUs); err != nil {
			return nil, nil, usageError{fmt.Errorf("--cpus: %w", err)}
		}
	}
	if usable, err = topology.Usable(h.machine, h.allowed, want); err != nil {
		return nil, nil, usageError{fmt.Errorf("--cpus: %w", err)}
	}
	n := p.Shards
	if n == 0 && h.maxShards > 0 {
		n = min(len(usable), h.maxShards)
	}
	if plan, err = topology.Plan(h.machine, usable, n); err != nil {
		return nil, nil, usageError{fmt.Errorf("--shards: %w", err)}
	}
	return usable, plan, nil
}
