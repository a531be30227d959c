package vmtest

import (
	"fmt"
	"slices"
)

// Check groups a Spec can ask for. The boot check always runs.
const (
	// GroupSysfs compares the guest's /sys with the Preset.
	GroupSysfs = "sysfs"
	// GroupTopology compares `corekv topology --json` with the Preset.
	GroupTopology = "topology"
	// GroupServer runs `corekv --pin-cores` and drives its API.
	GroupServer = "server"
	// GroupNUMA maps memory through package numa in the guest and checks
	// on which nodes its pages land.
	GroupNUMA = "numa"
	// GroupDump copies the guest's /sys topology files out over the console.
	GroupDump = "dump"
)

// Groups returns every check group in the order the guest runs them.
func Groups() []string {
	return []string{GroupSysfs, GroupTopology, GroupServer, GroupNUMA, GroupDump}
}

// Spec tells the guest what to check. The harness writes it as JSON to
// SpecPath inside the initramfs.
type Spec struct {
	Preset Preset
	// Groups lists the check groups to run.
	Groups []string
	// Port is the TCP port corekv listens on inside the guest; 0 means 8080.
	Port int
}

// SpecPath is where the guest finds its Spec.
const SpecPath = "/vmtest/spec.json"

// Variant is one way of starting corekv in the guest.
type Variant struct {
	// Name is "all", "node" or "taskset".
	Name string
	// CPUs is passed as --cpus when not nil.
	CPUs []int
	// Mask is the affinity the process gets before exec when not nil.
	Mask []int
}

// Usable returns the CPUs corekv may use under v.
func (v Variant) Usable(l Layout) []int {
	switch {
	case v.CPUs != nil:
		return v.CPUs
	case v.Mask != nil:
		return v.Mask
	}
	return l.IDs()
}

// Variants returns the ways the guest starts corekv for p: on every online
// CPU, with --cpus set to the last node that has CPUs, and narrowed by an
// affinity mask that spans the middle half of the online CPUs.
func (p Preset) Variants() []Variant {
	l := p.Layout()
	var node []int
	for _, n := range l.Nodes {
		if len(n.CPUs) > 0 {
			node = n.CPUs
		}
	}
	ids := l.IDs()
	q := len(ids) / 4
	mask := slices.Clone(ids[q : q+(len(ids)+1)/2])
	return []Variant{{Name: "all"}, {Name: "node", CPUs: node}, {Name: "taskset", Mask: mask}}
}

// Checks returns the names of the checks the guest must report, in order.
func (s Spec) Checks() []string {
	names := []string{"boot"}
	if len(s.Preset.Offline) > 0 {
		names = append(names, "offline")
	}
	for _, g := range Groups() {
		if !slices.Contains(s.Groups, g) {
			continue
		}
		switch g {
		case GroupSysfs, GroupDump:
			names = append(names, g)
		case GroupTopology:
			for _, v := range s.Preset.Variants() {
				names = append(names, "topology/"+v.Name)
			}
		case GroupServer:
			for _, v := range s.Preset.Variants() {
				for _, c := range ServerChecks() {
					names = append(names, "server/"+v.Name+"/"+c)
				}
			}
		case GroupNUMA:
			for _, c := range NUMAChecks() {
				names = append(names, "numa/"+c)
			}
		}
	}
	return names
}

// ServerChecks names the checks run against each corekv started in a guest,
// "start" first: where its threads run (pin), the API over HTTP/1.1, h2c
// and Upgrade: h2c, connections reaching every shard over HTTP/1.1
// (spread) and h2c (spread-h2c), and a clean exit on SIGTERM (stop).
func ServerChecks() []string {
	return []string{"start", "pin", "http1", "h2c", "upgrade", "steer", "spread", "spread-h2c", "stop"}
}

// NUMAChecks names the checks of GroupNUMA: the default --numa-memory
// policy for the guest's nodes, then where the pages of memory mapped
// under each policy land once written: on the writer's node with no
// policy (off), spread evenly over every memory node (interleave), and
// on the node asked for, even when another node's CPU writes (local);
// then, in a running `corekv --pin-cores`, that each shard's buffers are
// preferred on, and lie on, the shard's node (buffers), and that under a
// seccomp filter refusing memory policies it warns once and places
// nothing (seccomp); and that values a running corekv confined to one
// node's CPUs is sent land in the store's segments spread over every
// memory node (values-interleave) or on that node (values-local); and
// the same for values written through the store in the guest program by
// a store.Shard of one node (store-interleave, store-local).
func NUMAChecks() []string {
	return []string{"default", "off", "interleave", "local", "buffers", "seccomp",
		"values-interleave", "values-local", "store-interleave", "store-local"}
}

// Validate reports whether s names a valid preset and known groups.
func (s Spec) Validate() error {
	if err := s.Preset.Validate(); err != nil {
		return err
	}
	for _, g := range s.Groups {
		if !slices.Contains(Groups(), g) {
			return fmt.Errorf("unknown check group %q", g)
		}
	}
	return nil
}

// ListenPort returns the port corekv listens on in the guest.
func (s Spec) ListenPort() int {
	if s.Port == 0 {
		return 8080
	}
	return s.Port
}
