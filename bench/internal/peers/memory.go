package peers

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Memory is a process's resident memory in bytes, from /proc/PID/status.
type Memory struct {
	Peak    int64 // VmHWM: the most it has held resident
	Current int64 // VmRSS: what it holds now
}

// ReadMemory returns process pid's resident memory now and at its peak.
func ReadMemory(pid int) (Memory, error) {
	return readMemoryImpl(pid)
}

// parseStatus reads VmHWM and VmRSS (in kB, that is KiB) out of the text
// of /proc/PID/status.
func parseStatus(b []byte) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		var dst *int64
		switch {
		case !ok:
			continue
		case name == "VmHWM":
			dst = &m.Peak
		case name == "VmRSS":
			dst = &m.Current
		default:
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("parse %s line %q: want a number of kB", name, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return Memory{}, fmt.Errorf("parse %s line %q: bad number %q", name, sc.Text(), f[0])
		}
		*dst = kb << 10
		found++
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("parse status: VmHWM or VmRSS missing")
	}
	return m, nil
}
