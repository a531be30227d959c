package main

import (
	"fmt"
	"strings"

	"github.com/corekv/corekv/topology"
)

// readNetwork reads where the network interfaces' packets are processed
// and marks the CPUs and nodes without a shard. A machine whose files
// cannot be read gets one warning and no network report.
func readNetwork(sysRoot, procRoot string, m *topology.Machine, plan []topology.Shard, logf func(string, ...any)) []topology.NIC {
	nics, err := topology.ReadNetwork(sysRoot, procRoot)
	if err != nil {
		logf("warning: cannot read where network interrupts land: %v", err)
		return nil
	}
	return topology.NetworkReport(nics, m, plan)
}

// warnUnserved logs one warning if the receive interrupts or RPS masks of
// any interface point at CPUs that run no shard.
func warnUnserved(nics []topology.NIC, logf func(string, ...any)) {
	var parts []string
	for _, n := range nics {
		if len(n.UnservedCPUs) == 0 {
			continue
		}
		part := fmt.Sprintf("%s on %s", n.Name, listNoun("CPU", n.UnservedCPUs))
		if len(n.UnservedNodes) > 0 {
			part += fmt.Sprintf(" (%s without any shard)", listNoun("node", n.UnservedNodes))
		}
		parts = append(parts, part)
	}
	if parts != nil {
		logf("warning: network interrupts land on CPUs without a shard: %s; connections received there are served on other CPUs (see corekv topology)",
			strings.Join(parts, ", "))
	}
}

// listNoun names a list of CPUs or nodes: "CPU 1" or "CPUs 1-2,4".
func listNoun(noun string, ids []int) string {
	if len(ids) == 1 {
		return fmt.Sprintf("%s %d", noun, ids[0])
	}
	return noun + "s " + topology.FormatCPUList(ids)
}
