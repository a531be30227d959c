package topology

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// MaxCPUID bounds the CPU ids ParseCPUList accepts: ids from 0 to
// MaxCPUID-1. The kernel's own limit (CONFIG_NR_CPUS) is at most 8192 today,
// so anything larger is garbage, not a machine.
const MaxCPUID = 1 << 16

// ParseError reports a cpulist that does not parse. At is the byte offset
// in In of the element that failed.
type ParseError struct {
	In  string // the whole input
	At  int    // byte offset of the bad element in In
	Msg string // what is wrong with it
	Err error  // the strconv error underneath, if any
}

func (e *ParseError) Error() string {
	return "parse cpulist " + strconv.Quote(e.In) + ": " + e.Msg
}

// Unwrap returns the strconv error underneath, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// ParseCPUList parses the kernel's cpulist syntax, as found in
// /sys/devices/system/cpu/online or taskset -c: comma-separated CPU ids and
// inclusive ranges "a-b" with a <= b, such as "0-3,8-11". Surrounding
// white space (the kernel's trailing newline) is ignored; the empty list is
// valid. The result is sorted and free of duplicates, and never nil.
func ParseCPUList(s string) ([]int, error) {
	in := s
	off := len(in) - len(strings.TrimLeftFunc(in, unicode.IsSpace))
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{}, nil
	}
	var ranges [][2]int
	for elem := range strings.SplitSeq(s, ",") {
		lo, hi, err := parseRange(in, off, elem)
		if err != nil {
			return nil, err
		}
		ranges = append(ranges, [2]int{lo, hi})
		off += len(elem) + 1
	}
	return expand(ranges), nil
}

// expand returns the sorted ids that the inclusive ranges cover. It merges
// overlapping ranges first, so repeated ranges cost nothing.
func expand(ranges [][2]int) []int {
	slices.SortFunc(ranges, func(a, b [2]int) int { return a[0] - b[0] })
	cpus := []int{}
	next := 0 // the smallest id not yet emitted
	for _, r := range ranges {
		for c := max(r[0], next); c <= r[1]; c++ {
			cpus = append(cpus, c)
		}
		next = max(next, r[1]+1)
	}
	return cpus
}

// parseRange parses one element "a" or "a-b" that starts at byte off of in.
func parseRange(in string, off int, elem string) (lo, hi int, err error) {
	first, last, isRange := strings.Cut(elem, "-")
	if lo, err = parseID(in, off, first); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseID(in, off+len(first)+1, last); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, &ParseError{In: in, At: off, Msg: "descending range " + strconv.Quote(elem)}
	}
	return lo, hi, nil
}

// parseID parses one decimal CPU id that starts at byte off of in.
func parseID(in string, off int, s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, &ParseError{In: in, At: off, Msg: "bad CPU " + strconv.Quote(s)}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n >= MaxCPUID {
		return 0, &ParseError{In: in, At: off, Err: err,
			Msg: "CPU " + strconv.Quote(s) + " out of range 0-" + strconv.Itoa(MaxCPUID-1)}
	}
	return n, nil
}

// FormatCPUList formats cpus in the kernel's cpulist syntax, sorted, without
// duplicates and with runs of consecutive ids written as ranges: "0-3,8-11".
// It does not modify cpus. An empty list formats as "".
func FormatCPUList(cpus []int) string {
	sorted := slices.Clone(cpus)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var b strings.Builder
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(sorted[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(sorted[j]))
		}
		i = j + 1
	}
	return b.String()
}
