package suite

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/topology"
)

// SplitCPUs divides the allowed CPUs between the client and the server
// by whole cores, so that no core's hardware threads are shared between
// them: the client gets the first half of the cores (rounded down, at
// least one), the server the rest. Cores are ordered by package, then
// core id. With a single core, both get all of it (and the caller should
// warn). m may be nil, when the topology is unknown: each CPU is then
// taken for a core of its own.
func SplitCPUs(m *topology.Machine, allowed []int) (client, server []int) {
	type core struct{ pkg, id int }
	cores := map[core][]int{}
	for _, cpu := range allowed {
		k := core{-1, cpu}
		if m != nil {
			if c, ok := m.CPU(cpu); ok {
				k = core{c.Package, c.Core}
			}
		}
		cores[k] = append(cores[k], cpu)
	}
	keys := make([]core, 0, len(cores))
	for k := range cores {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b core) int {
		return cmp.Or(cmp.Compare(a.pkg, b.pkg), cmp.Compare(a.id, b.id), cmp.Compare(cores[a][0], cores[b][0]))
	})
	if len(keys) < 2 {
		all := slices.Sorted(slices.Values(allowed))
		return all, slices.Clone(all)
	}
	half := len(keys) / 2
	for i, k := range keys {
		if i < half {
			client = append(client, cores[k]...)
		} else {
			server = append(server, cores[k]...)
		}
	}
	slices.Sort(client)
	slices.Sort(server)
	return client, server
}

// Placement returns the load generator's and the server's CPUs: the
// cpulists given (--client-cpus, --server-cpus), or for an empty one
// SplitCPUs of the process's allowed CPUs on this machine (CPU by CPU
// where /sys cannot be read).
func Placement(clientCPUs, serverCPUs string) (client, srv []int, err error) {
	allowed, err := affinity.Allowed()
	if err != nil {
		return nil, nil, err
	}
	m, err := topology.Read(topology.DefaultRoot)
	if err != nil {
		m = nil // split CPU by CPU
	}
	client, srv = SplitCPUs(m, allowed)
	if clientCPUs != "" {
		if client, err = topology.ParseCPUList(clientCPUs); err != nil {
			return nil, nil, fmt.Errorf("--client-cpus: %w", err)
		}
	}
	if serverCPUs != "" {
		if srv, err = topology.ParseCPUList(serverCPUs); err != nil {
			return nil, nil, fmt.Errorf("--server-cpus: %w", err)
		}
	}
	return client, srv, nil
}
