package topology

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Report is what `corekv topology` prints: the machine, the CPUs the
// process may use and the shard plan. Its JSON shape is fixed:
//
//	{"cpus":[{"cpu":0,"core":0,"package":0,"node":0,"siblings":[0,4]}],
//	 "nodes":[{"node":0,"cpus":[0,1],"memory":true,"distances":[10,21]}],
//	 "usable":[0,1],
//	 "shards":[{"shard":0,"cpu":0,"core":0,"package":0,"node":0}],
//	 "network":[{"interface":"eth0","rx_queues":[{"queue":0,"rps_cpus":[]}],
//	   "irqs":[{"irq":38,"name":"eth0-rx-0","cpus":[0,1]}],
//	   "unserved_cpus":[],"unserved_nodes":[]}]}
//
// Every list is sorted ascending and prints as [] when empty, never null.
type Report struct {
	CPUs   []CPU   `json:"cpus"`
	Nodes  []Node  `json:"nodes"`
	Usable []int   `json:"usable"`
	Shards []Shard `json:"shards"`
	// Network is empty unless the caller sets it, from NetworkReport.
	Network []NIC `json:"network"`
}

// NewReport returns the report of machine m, the usable CPUs and the
// shard plan. It copies what it keeps.
func NewReport(m *Machine, usable []int, shards []Shard) *Report {
	r := &Report{
		CPUs:    make([]CPU, len(m.CPUs)),
		Nodes:   make([]Node, len(m.Nodes)),
		Usable:  sortedCopy(usable),
		Shards:  append([]Shard{}, shards...),
		Network: []NIC{},
	}
	for i, c := range m.CPUs {
		c.Siblings = sortedCopy(c.Siblings)
		r.CPUs[i] = c
	}
	for i, n := range m.Nodes {
		n.CPUs, n.Distances = sortedCopy(n.CPUs), append([]int{}, n.Distances...)
		r.Nodes[i] = n
	}
	slices.SortFunc(r.CPUs, func(a, b CPU) int { return a.ID - b.ID })
	slices.SortFunc(r.Shards, func(a, b Shard) int { return a.Shard - b.Shard })
	return r
}

// sortedCopy returns a sorted copy of s that is never nil.
func sortedCopy(s []int) []int {
	c := append([]int{}, s...)
	slices.Sort(c)
	return c
}

// WriteJSON writes r as JSON, indented by two spaces with one CPU, node,
// shard or network interface per line, and a final newline.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{\n")
	writeJSONList(bw, "cpus", r.CPUs, ",")
	writeJSONList(bw, "nodes", r.Nodes, ",")
	usable, _ := json.Marshal(r.Usable) // []int always marshals
	fmt.Fprintf(bw, "  \"usable\": %s,\n", usable)
	writeJSONList(bw, "shards", r.Shards, ",")
	writeJSONList(bw, "network", r.Network, "")
	bw.WriteString("}\n")
	return bw.Flush()
}

// writeJSONList writes one member of the report object: a list of
// objects, one per line.
func writeJSONList[T any](w *bufio.Writer, name string, items []T, comma string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "  %q: []%s\n", name, comma)
		return
	}
	fmt.Fprintf(w, "  %q: [\n", name)
	for i, it := range items {
		line, _ := json.Marshal(it) // the report's types hold only ints, bools and []int
		sep := ","
		if i == len(items)-1 {
			sep = ""
		}
		fmt.Fprintf(w, "    %s%s\n", line, sep)
	}
	fmt.Fprintf(w, "  ]%s\n", comma)
}

// WriteTable writes r for people: a table of CPUs in the manner of
// lscpu -e, a table of nodes with their distances, and the shard plan.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	shardOf := map[int]int{}
	for _, s := range r.Shards {
		shardOf[s.CPU] = s.Shard
	}
	fmt.Fprintln(tw, "CPU\tNODE\tPACKAGE\tDIE\tCORE\tSIBLINGS\tUSABLE\tSHARD")
	for _, c := range r.CPUs {
		shard := "-"
		if s, ok := shardOf[c.ID]; ok {
			shard = strconv.Itoa(s)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", c.ID, c.Node, c.Package, c.Die, c.Core,
			FormatCPUList(c.Siblings), yesNo(slices.Contains(r.Usable, c.ID)), shard)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "NODE\tCPUS\tMEMORY\tDISTANCES")
	for _, n := range r.Nodes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", n.ID, orDash(FormatCPUList(n.CPUs)), yesNo(n.Memory), joinInts(n.Distances))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "%d shards on usable CPUs %s\n", len(r.Shards), orDash(FormatCPUList(r.Usable)))
	fmt.Fprintln(tw, "SHARD\tCPU\tCORE\tPACKAGE\tNODE")
	for _, s := range r.Shards {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\n", s.Shard, s.CPU, s.Core, s.Package, s.Node)
	}
	r.writeNetworkTable(tw)
	return tw.Flush()
}

// writeNetworkTable writes where each interface's received packets are
// processed: a row per receive interrupt and per queue with RPS on, then
// the CPUs and nodes among them without a shard.
func (r *Report) writeNetworkTable(w io.Writer) {
	if len(r.Network) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "INTERFACE\tRECEIVES ON\tCPUS")
	for _, n := range r.Network {
		rows := 0
		for _, q := range n.IRQs {
			fmt.Fprintf(w, "%s\tirq %d %s\t%s\n", n.Name, q.IRQ, q.Name, orDash(FormatCPUList(q.CPUs)))
			rows++
		}
		for _, q := range n.Queues {
			if len(q.RPSCPUs) > 0 {
				fmt.Fprintf(w, "%s\trx-%d rps\t%s\n", n.Name, q.Queue, FormatCPUList(q.RPSCPUs))
				rows++
			}
		}
		if rows == 0 {
			fmt.Fprintf(w, "%s\t-\t-\n", n.Name)
		}
	}
	for _, n := range r.Network {
		if len(n.UnservedCPUs) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: %s without a shard", n.Name, cpuNoun(n.UnservedCPUs))
		if len(n.UnservedNodes) > 0 {
			fmt.Fprintf(w, ", on %s without any shard", nodeNoun(n.UnservedNodes))
		}
		fmt.Fprintln(w)
	}
}

// nodeNoun names a list of nodes: "node 1" or "nodes 1,3".
func nodeNoun(nodes []int) string {
	if len(nodes) == 1 {
		return "node " + strconv.Itoa(nodes[0])
	}
	return "nodes " + FormatCPUList(nodes)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinInts(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " ")
}
