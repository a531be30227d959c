package report

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the summary as aligned text: a header naming the
// machine and the load, then one block per step with a line per
// configuration (median [min–max] over rounds) and, under every
// configuration after the first, its ratio to the first.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	r.writeHeader(&b)
	for step := range r.Steps {
		r.writeStep(&b, step)
	}
	r.writeErrors(&b)
	r.writeProfiles(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeHeader(b *strings.Builder) {
	m, s := r.Machine, r.Settings
	if r.Command != "" {
		fmt.Fprintf(b, "command: %s\n", r.Command)
	}
	fmt.Fprintf(b, "machine: %s, %d CPUs, %s, %s\n", m.CPUModel, m.CPUs, m.Kernel, m.GoVersion)
	where := "server on CPUs " + m.ServerCPUs
	if s.Target != "" {
		where = "target " + s.Target
	}
	fmt.Fprintf(b, "placement: %s, client on CPUs %s\n", where, m.ClientCPUs)
	fmt.Fprintf(b, "load: %.0f%% GET / %.0f%% POST, %d %s keys, %d-byte values, %d connections",
		100*s.ReadRatio, 100*(1-s.ReadRatio), s.Keys, s.KeyDist, s.ValueSize, s.Connections)
	if slices.ContainsFunc(r.Configs, func(c Config) bool { return c.Proto == "h2c" }) {
		fmt.Fprintf(b, " (h2c: %d streams each)", s.Streams)
	}
	fresh := "fresh server each"
	if s.Target != "" {
		fresh = "the same target each"
	}
	fmt.Fprintf(b, "\nrounds: %d per configuration, interleaved, %s, after %gs warm-up; figures are median [min–max];\n", s.Repeat, fresh, s.WarmupS)
	fmt.Fprintf(b, "  vs: ratio of medians to %q, p from a Mann-Whitney U test, * where p < 0.05\n", r.Configs[0].Label)
	fmt.Fprintf(b, "  latency from each request's intended send time; srv CPU µs/req: server CPU time per correct answer;\n")
	fmt.Fprintf(b, "  srv CPU: its CPU time over the step's wall time and CPUs; client busy: the load generator's share of its CPUs;\n")
	fmt.Fprintf(b, "  loop CPU: the share of the server's CPU time its shards' event-loop threads used\n")
}

func (r *Report) writeStep(b *strings.Builder, step int) {
	st := r.Steps[step]
	if st.Rate == 0 {
		fmt.Fprintf(b, "\nclosed loop, %gs:\n", st.DurationS)
	} else {
		fmt.Fprintf(b, "\nopen loop at %s req/s, %gs:\n", formatThousands(st.Rate), st.DurationS)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "config\tproto\tGOMAXPROCS")
	for _, m := range metrics {
		fmt.Fprintf(tw, "\t%s", m.Title)
	}
	fmt.Fprint(tw, "\tstatus\n")
	for cfg, c := range r.Configs {
		s, ok := r.Lookup(step, cfg)
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", c.Label, c.Proto, r.gomaxprocs(cfg))
		for _, m := range metrics {
			fmt.Fprintf(tw, "\t%s", formatStat(m, s.Stats[m.Name]))
		}
		fmt.Fprintf(tw, "\t%s\n", formatStatuses(s.Statuses))
		if cfg == 0 {
			continue
		}
		fmt.Fprint(tw, "  vs\t\t")
		for _, m := range metrics {
			fmt.Fprintf(tw, "\t%s", formatRatio(s.Stats[m.Name]))
		}
		fmt.Fprint(tw, "\t\n") // an empty status keeps the column aligned
	}
	tw.Flush()
}

// gomaxprocs returns the GOMAXPROCS the configuration's servers reported,
// "?" when none did.
func (r *Report) gomaxprocs(cfg int) string {
	seen := map[int]bool{}
	for _, rd := range r.Rounds {
		if rd.Config == cfg && rd.GOMAXPROCS > 0 {
			seen[rd.GOMAXPROCS] = true
		}
	}
	if len(seen) == 0 {
		return "?"
	}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		parts = append(parts, fmt.Sprint(n))
	}
	return strings.Join(parts, ",")
}

// writeProfiles lists the CPU profiles, if any were taken.
func (r *Report) writeProfiles(b *strings.Builder) {
	if !slices.ContainsFunc(r.Configs, func(c Config) bool { return len(c.Profiles) > 0 }) {
		return
	}
	b.WriteString("\nserver CPU profiles over the timed steps of every round (go tool pprof -http=: FILE):\n")
	for _, c := range r.Configs {
		switch {
		case c.Profile != "" && c.Graph != "":
			fmt.Fprintf(b, "  %s: %s, call graph %s\n", c.Label, c.Profile, c.Graph)
		case c.Profile != "":
			fmt.Fprintf(b, "  %s: %s\n", c.Label, c.Profile)
		default:
			fmt.Fprintf(b, "  %s: %s\n", c.Label, strings.Join(c.Profiles, " "))
		}
	}
}

func (r *Report) writeErrors(b *strings.Builder) {
	total := int64(0)
	for _, rd := range r.Rounds {
		for _, m := range rd.Measurements {
			if n := m.Errors.Total(); n > 0 {
				total += n
				fmt.Fprintf(b, "\n!! %s round %d step %d: %d failed requests %+v; first: %s", r.Configs[rd.Config].Label, rd.Round, m.Step+1, n, m.Errors, m.FirstError)
			}
		}
		if rd.ServerExit != "" {
			fmt.Fprintf(b, "\n!! %s round %d: server did not exit cleanly: %s", r.Configs[rd.Config].Label, rd.Round, rd.ServerExit)
		}
	}
	if total == 0 {
		fmt.Fprintf(b, "\nevery answer was checked: no failed requests\n")
		return
	}
	fmt.Fprintf(b, "\n!! %d failed requests in all (not timed)\n", total)
}

func formatStat(m metric, s Stat) string {
	if s.N == 0 {
		return "-"
	}
	f := formatValue
	switch {
	case m.Name == "throughput":
		f = formatCount
	case m.Percent:
		f = func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}

func formatRatio(s Stat) string {
	if s.N == 0 || s.Ratio == 0 {
		return "-"
	}
	star := ""
	if s.Significant {
		star = " *"
	}
	return fmt.Sprintf("×%.2f p=%.3f%s", s.Ratio, s.P, star)
}

func formatStatuses(st map[Status]int) string {
	if len(st) == 1 {
		for s := range st {
			return string(s)
		}
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(st)) {
		parts = append(parts, fmt.Sprintf("%s %d", s, st[s]))
	}
	return strings.Join(parts, ", ")
}

// formatCount writes a rate with a k or M suffix and 3 significant digits.
func formatCount(v float64) string {
	switch {
	case v >= 999.5e3:
		return formatValue(v/1e6) + "M"
	case v >= 999.5:
		return formatValue(v/1e3) + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

// formatThousands writes a rate as a whole number with comma separators.
func formatThousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatValue writes a latency or a CPU time with 3 significant digits,
// without an exponent below a million.
func formatValue(v float64) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f", v)
	case v < 99.95:
		return fmt.Sprintf("%.1f", v)
	case v < 1e6:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
