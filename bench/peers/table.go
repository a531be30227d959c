package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// writeMemory prints every result, then peak / stored side by side.
// "added/stored" is (peak - base) / stored: the memory the data brought,
// per byte, with the idle process (its binary's pages, its runtime)
// left out: the fixed part weighs less as the store grows, this part
// does not.
func writeMemory(out io.Writer, servers []string, rs []memResult) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tserver\tstored MiB\tbase RSS MiB\tpeak RSS MiB\tend RSS MiB\tpeak/stored\tadded/stored\tend/stored\tfill s\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.1f\t\n", r.w.id, r.server,
			mib(r.stored), mib(r.base.Current), mib(r.mem.Peak), mib(r.mem.Current), r.peakRatio(), r.addedRatio(), r.endRatio(), r.took.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nlimits (nothing evicted):")
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.server] {
			seen[r.server] = true
			fmt.Fprintf(out, "  %s: %s\n", r.server, r.how)
		}
	}
	fmt.Fprintln(out, "\npeak resident memory (VmHWM) / bytes of keys + values stored; in parentheses VmRSS at the end / stored:")
	tw = tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "workload\t")
	for _, s := range servers {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw)
	for i := 0; i < len(rs); i += len(servers) {
		fmt.Fprintf(tw, "%s\t", rs[i].w)
		for _, r := range rs[i : i+len(servers)] {
			fmt.Fprintf(tw, "%.2f (%.2f)\t", r.peakRatio(), r.endRatio())
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// write prints the budget, every result, then hit ratios side by side.
func (h *hitratioCmd) write(e *env, set int64, b budget, rs []hrResult) error {
	out := e.out
	fmt.Fprintf(out, "working set: %s keys, values %d-%d B, %s B of keys + values; budget %.0f%%: %s B (%.1f MiB)\n",
		thousands(int64(h.Keys)), h.MinValue, h.MaxValue, thousands(set), 100*h.Share, thousands(b.bytes), mib(b.bytes))
	fmt.Fprintf(out, "streams: %s requests each, the first %s not counted; seed %d\n\n",
		thousands(int64(h.Requests)), thousands(int64(h.Warmup)), h.Seed)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "alpha\tserver\tcounted\thits\thit ratio\tSETs\tnot stored\tkeys held\tevictions\tpeak RSS MiB\tend RSS MiB\ttook s\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%v\t%s\t%d\t%d\t%.4f\t%d\t%d\t%d\t%s\t%.1f\t%.1f\t%.1f\t\n", r.alpha, r.server, r.counted, r.hits, r.ratio(),
			r.sets, r.notStored, r.end.items, r.end.evictionsText(), mib(r.mem.Peak), mib(r.mem.Current), r.took.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nbudgets:")
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.server] {
			seen[r.server] = true
			fmt.Fprintf(out, "  %s: %s\n", r.server, r.how)
		}
	}
	fmt.Fprintln(out, "\nhit ratio of the counted requests (in parentheses: SETs refused, e.g. corekv's 507 at --max-memory):")
	tw = tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprint(tw, "stream\t")
	for _, s := range e.Servers {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw)
	for i := 0; i < len(rs); i += len(e.Servers) {
		fmt.Fprintf(tw, "zipf %v\t", rs[i].alpha)
		for _, r := range rs[i : i+len(e.Servers)] {
			fmt.Fprintf(tw, "%.4f (%s)\t", r.ratio(), thousands(int64(r.notStored)))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
