// Package memlimit decides how much memory corekv's store may use: it
// parses a size such as 4GiB or auto, and resolves auto to a share
// of the memory the process may use (the machine's RAM, or its cgroup v2
// memory.max when that is lower).
package memlimit

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Default roots of the files Available reads.
const (
	DefaultProcRoot   = "/proc"
	DefaultCgroupRoot = "/sys/fs/cgroup"
)

// AutoPercent is the share of the memory the process may use, in percent,
// that an auto Size resolves to. The store keeps its values and keys
// outside the Go heap and counts its index against the bound as well
// (store.IndexBytesPerEntry), so the rest only has to cover the Go
// runtime and connection buffers, the index's table while it doubles,
// and the kernel.
const AutoPercent = 80

// Size is a bound in bytes, 0 meaning unlimited, or auto.
type Size struct {
	n    int64
	auto bool
}

// Bytes returns a Size of n bytes.
func Bytes(n int64) Size { return Size{n: n} }

// Auto returns the Size that Resolve turns into a share of Available.
func Auto() Size { return Size{auto: true} }

// ParseSize parses a plain number of bytes, one with a binary suffix (K, M,
// G, T, optionally followed by "iB" or "B", in any case), or "auto".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "auto") {
		return Auto(), nil
	}
	shift := 0
	upper := strings.ToUpper(t)
	upper = strings.TrimSuffix(strings.TrimSuffix(upper, "B"), "I")
	if n := len(upper); n > 0 {
		if i := strings.IndexByte("KMGT", upper[n-1]); i >= 0 {
			shift = 10 * (i + 1)
			upper = upper[:n-1]
		}
	}
	n, err := strconv.ParseInt(upper, 10, 64)
	if err != nil || n < 0 || (shift > 0 && n > (1<<63-1)>>shift) {
		return Size{}, fmt.Errorf("bad size %q: want bytes, e.g. 1073741824, 512MiB, 4G or auto", s)
	}
	return Bytes(n << shift), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseSize.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String returns "auto" or the number of bytes.
func (s Size) String() string {
	if s.auto {
		return "auto"
	}
	return strconv.FormatInt(s.n, 10)
}

// Resolve returns the bound in bytes: auto becomes AutoPercent percent of
// what Available(procRoot, cgroupRoot) reports; 0 stays unlimited.
func (s Size) Resolve(procRoot, cgroupRoot string) (int64, error) {
	if !s.auto {
		return s.n, nil
	}
	avail, err := Available(procRoot, cgroupRoot)
	if err != nil {
		return 0, err
	}
	return avail / 100 * AutoPercent, nil
}

// Available returns the bytes of memory this process may use: the
// machine's RAM (MemTotal in procRoot/meminfo), or the cgroup v2
// memory.max of the process's cgroup (named in procRoot/self/cgroup, read
// under cgroupRoot) when that is lower.
func Available(procRoot, cgroupRoot string) (int64, error) {
	return availableImpl(procRoot, cgroupRoot)
}

// errNoMemTotal is parseMemTotal's error for meminfo text without one.
var errNoMemTotal = errors.New("no MemTotal line")

// parseMemTotal returns MemTotal in bytes from /proc/meminfo's text.
func parseMemTotal(data []byte) (int64, error) {
	for line := range bytes.Lines(data) {
		fields := bytes.Fields(line)
		if len(fields) == 3 && string(fields[0]) == "MemTotal:" && string(fields[2]) == "kB" {
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			if err != nil || kb <= 0 || kb > (1<<63-1)>>10 {
				return 0, fmt.Errorf("bad MemTotal %q", fields[1])
			}
			return kb << 10, nil
		}
	}
	return 0, errNoMemTotal
}

// parseCgroupPath returns the process's cgroup v2 path, relative to the
// cgroup mount, from /proc/self/cgroup's text; "" if it names none
// (cgroup v1 only).
func parseCgroupPath(data []byte) string {
	var rel string
	for line := range bytes.Lines(data) {
		if p, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte("0::")); ok {
			rel = string(p)
		}
	}
	return rel
}

// parseMemoryMax returns a cgroup v2 memory.max in bytes, or 0 for "max"
// (no limit).
func parseMemoryMax(data []byte) (int64, error) {
	s := string(bytes.TrimSpace(data))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad value %q", s)
	}
	return n, nil
}
