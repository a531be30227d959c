package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/corekv/corekv/vmtest"
)

// corekvPath is where the harness puts the corekv binary.
const corekvPath = "/bin/corekv"

// guest runs the checks of one Spec.
type guest struct {
	rep    reporter
	spec   vmtest.Spec
	layout vmtest.Layout
}

// run reports boot, takes CPUs offline and runs every group of the Spec.
// DONE is printed only by a run that got to its end: not, say, on the way
// out of a panic.
func (g *guest) run() {
	spec, err := readSpec()
	if err != nil {
		g.rep.fail("boot", err)
		g.rep.line("DONE")
		return
	}
	g.spec, g.layout = spec, spec.Preset.Layout()
	g.rep.pass("boot", fmt.Sprintf("preset=%s kernel=%s cpus=%d",
		spec.Preset.Name, kernelRelease(), runtime.NumCPU()))
	if len(spec.Preset.Offline) > 0 {
		g.rep.result("offline", g.takeOffline())
	}
	for _, group := range vmtest.Groups() {
		if slices.Contains(spec.Groups, group) {
			g.runGroup(group)
		}
	}
	g.rep.line("DONE")
}

// runGroup runs the checks of one group. A panic in them fails the group,
// with the stack in LOG lines, and the guest goes on with the next group.
func (g *guest) runGroup(group string) {
	defer func() {
		if r := recover(); r != nil {
			g.rep.fail(group, fmt.Errorf("panic: %v", r))
			for line := range strings.Lines(string(debug.Stack())) {
				g.rep.log("%s", strings.TrimRight(line, "\n"))
			}
		}
	}()
	switch group {
	case vmtest.GroupSysfs:
		g.rep.result("sysfs", g.checkSysfs())
	case vmtest.GroupTopology:
		for _, v := range g.spec.Preset.Variants() {
			detail, err := g.checkTopology(v)
			g.report("topology/"+v.Name, detail, err)
		}
	case vmtest.GroupServer:
		for i, v := range g.spec.Preset.Variants() {
			g.checkServer(v, g.spec.ListenPort()+i)
		}
	case vmtest.GroupNUMA:
		g.checkNUMA()
	case vmtest.GroupDump:
		g.rep.result("dump", g.dumpSysfs())
	}
}

// takeOffline writes 0 to each offline CPU's online file and checks the
// kernel's online list.
func (g *guest) takeOffline() error {
	for _, c := range g.spec.Preset.Offline {
		name := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/online", c)
		if err := os.WriteFile(name, []byte("0"), 0o644); err != nil {
			return err
		}
	}
	return wantFile("/sys/devices/system/cpu/online", vmtest.FormatList(g.layout.IDs()))
}

// reporter writes console protocol lines.
type reporter struct{ w io.Writer }

func (r reporter) line(format string, args ...any) {
	// One write per line keeps lines whole amid kernel messages.
	fmt.Fprintf(r.w, vmtest.Prefix+format+"\n", args...)
}

// pass and fail end the line with the guest's uptime, so a slow check
// shows in the console.
func (r reporter) pass(name, detail string) {
	r.line("PASS %s %s [%.1fs]", name, detail, uptime().Seconds())
}

func (r reporter) fail(name string, err error) {
	r.line("FAIL %s: %s [%.1fs]", name, strings.ReplaceAll(err.Error(), "\n", "; "), uptime().Seconds())
}

func (r reporter) log(format string, args ...any) { r.line("LOG "+format, args...) }

func (r reporter) result(name string, err error) {
	if err != nil {
		r.fail(name, err)
		return
	}
	r.pass(name, "")
}

// parseList parses a kernel cpulist such as "0-2,4"; "" is the empty list.
// It deliberately does not call topology.ParseCPUList: the guest checks
// corekv from the outside, with code of its own (see vmtest.FormatList).
func parseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	var out []int
	if s == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a {
			return nil, fmt.Errorf("parse cpulist %q: bad range %q", s, part)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// wantFile checks that the trimmed content of name is want.
func wantFile(name, want string) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(string(data)); got != want {
		return fmt.Errorf("%s = %q, want %q", name, got, want)
	}
	return nil
}

// collect gathers the errors of several comparisons into one.
type collect []error

func (c *collect) add(err error) {
	if err != nil {
		*c = append(*c, err)
	}
}

func (c *collect) addf(format string, args ...any) { *c = append(*c, fmt.Errorf(format, args...)) }

func (c collect) err() error { return errors.Join(c...) }
