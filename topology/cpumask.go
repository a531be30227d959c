package topology

import (
	"fmt"
	"slices"
	"strings"
)

// parseCPUMask parses the kernel's CPU bitmap syntax, as found in
// /sys/class/net/IF/queues/rx-N/rps_cpus and /proc/irq/N/smp_affinity:
// comma-separated groups of up to 8 hex digits, each 32 CPUs, the most
// significant group first, such as "00000000,0000000f" for CPUs 0-3.
// Surrounding white space is ignored. The result is sorted and never nil;
// a CPU id of MaxCPUID or more is an error.
func parseCPUMask(s string) ([]int, error) {
	groups := strings.Split(strings.TrimSpace(s), ",")
	cpus := []int{}
	for i, g := range groups {
		if g == "" || len(g) > 8 {
			return nil, fmt.Errorf("parse cpu mask %q: group %d is %q, want 1 to 8 hex digits", s, i, g)
		}
		base := 32 * (len(groups) - 1 - i)
		for j := range len(g) {
			d := hexDigit(g[j])
			if d < 0 {
				return nil, fmt.Errorf("parse cpu mask %q: bad hex digit %q in group %d", s, g[j], i)
			}
			for bit := range 4 {
				if d&(1<<bit) == 0 {
					continue
				}
				id := base + 4*(len(g)-1-j) + bit
				if id >= MaxCPUID {
					return nil, fmt.Errorf("parse cpu mask %q: CPU %d is beyond %d", s, id, MaxCPUID-1)
				}
				cpus = append(cpus, id)
			}
		}
	}
	slices.Sort(cpus)
	return cpus, nil
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
