package topology

import (
	"slices"
	"strings"
)

// DefaultProcRoot is where procfs is mounted on a live machine.
const DefaultProcRoot = "/proc"

// NIC is a network interface and where the kernel processes the packets
// it receives: the CPUs its receive interrupts may run on, and the CPUs
// receive packet steering (RPS) hands its packets to. A new connection's
// SYN is processed, and --steer=cpu picks its shard, on one of them.
type NIC struct {
	Name string `json:"interface"`
	// Queues are the interface's receive queues, rx-0, rx-1, ...
	Queues []RxQueue `json:"rx_queues"`
	// IRQs are the interface's receive interrupts; empty for a virtual
	// interface (lo, a bridge, a veth).
	IRQs []IRQ `json:"irqs"`
	// UnservedCPUs are the CPUs of IRQs and Queues that run no shard,
	// and UnservedNodes the nodes of those CPUs that have no shard at
	// all; NetworkReport fills them in.
	UnservedCPUs  []int `json:"unserved_cpus"`
	UnservedNodes []int `json:"unserved_nodes"`
}

// RxQueue is one receive queue of a NIC.
type RxQueue struct {
	Queue int `json:"queue"`
	// RPSCPUs is the queue's rps_cpus mask: the CPUs the kernel hands its
	// packets to after the interrupt. Empty means RPS is off, and packets
	// are processed on the CPU of the interrupt.
	RPSCPUs []int `json:"rps_cpus"`
}

// IRQ is one receive interrupt of a NIC.
type IRQ struct {
	IRQ int `json:"irq"`
	// Name is the interrupt's name in /proc/interrupts, such as
	// "eth0-TxRx-0" or "virtio2-input.0".
	Name string `json:"name"`
	// CPUs is its smp_affinity_list: the CPUs it may run on.
	CPUs []int `json:"cpus"`
}

// isReceiveIRQ reports whether an interrupt's name marks it as serving
// received packets: drivers name those "rx" (ixgbe, i40e, ena: "TxRx"),
// "input" (virtio-net) or "comp" (mlx5 completion queues), and their
// transmit and control interrupts "tx", "output", "config", "async".
func isReceiveIRQ(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "rx") || strings.Contains(n, "input") || strings.Contains(n, "comp")
}

// NetworkReport returns nics with UnservedCPUs and UnservedNodes filled in
// for machine m and the shard plan. It copies what it keeps, does no I/O,
// and sorts the interfaces by name.
func NetworkReport(nics []NIC, m *Machine, plan []Shard) []NIC {
	served := map[int]bool{}
	nodeServed := map[int]bool{}
	for _, s := range plan {
		served[s.CPU] = true
		nodeServed[s.Node] = true
	}
	out := make([]NIC, len(nics))
	for i, n := range nics {
		out[i] = copyNIC(n)
		var unserved, nodes []int
		for _, c := range nicCPUs(n) {
			if served[c] {
				continue
			}
			unserved = append(unserved, c)
			if cpu, ok := m.CPU(c); ok && !nodeServed[cpu.Node] {
				nodes = append(nodes, cpu.Node)
			}
		}
		out[i].UnservedCPUs = sortedCopy(unserved)
		out[i].UnservedNodes = slices.Compact(sortedCopy(nodes))
	}
	slices.SortFunc(out, func(a, b NIC) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// nicCPUs returns the CPUs n's interrupts and RPS masks point at, sorted.
func nicCPUs(n NIC) []int {
	var cpus []int
	for _, q := range n.IRQs {
		cpus = append(cpus, q.CPUs...)
	}
	for _, q := range n.Queues {
		cpus = append(cpus, q.RPSCPUs...)
	}
	slices.Sort(cpus)
	return slices.Compact(cpus)
}

func copyNIC(n NIC) NIC {
	c := NIC{Name: n.Name, Queues: make([]RxQueue, len(n.Queues)), IRQs: make([]IRQ, len(n.IRQs))}
	for i, q := range n.Queues {
		c.Queues[i] = RxQueue{Queue: q.Queue, RPSCPUs: sortedCopy(q.RPSCPUs)}
	}
	for i, q := range n.IRQs {
		c.IRQs[i] = IRQ{IRQ: q.IRQ, Name: q.Name, CPUs: sortedCopy(q.CPUs)}
	}
	return c
}
