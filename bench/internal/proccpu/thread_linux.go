package proccpu

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// threadImpl reads the first field of /proc/<pid>/task/<tid>/schedstat:
// the scheduler's precise runtime of the thread in nanoseconds, the
// figure the process's CPU-time clock sums over its threads. (A thread
// CPU-time clock would read the same, but the kernel opens those to the
// thread's own process only.)
func threadImpl(pid, tid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read CPU time of thread %d: %w", tid, err)
	}
	field, _, _ := bytes.Cut(b, []byte(" "))
	ns, err := strconv.ParseInt(string(field), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s %q: %w", path, b, err)
	}
	return time.Duration(ns), nil
}
