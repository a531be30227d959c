package suite

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/topology"
)

// describeMachine says what the run ran on; what it cannot read it
// leaves as "unknown".
func describeMachine(serverCPUs, clientCPUs []int) report.Machine {
	m := report.Machine{
		CPUModel:   cpuModel(),
		CPUs:       runtime.NumCPU(),
		Kernel:     "unknown",
		GoVersion:  runtime.Version(),
		ServerCPUs: topology.FormatCPUList(serverCPUs),
		ClientCPUs: topology.FormatCPUList(clientCPUs),
	}
	if t, err := topology.Read(topology.DefaultRoot); err == nil {
		m.CPUs = len(t.Online()) // NumCPU counts only the CPUs bench is confined to
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == "model name" {
			return strings.TrimSpace(string(v))
		}
	}
	return "unknown"
}
