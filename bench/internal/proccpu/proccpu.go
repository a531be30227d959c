// Package proccpu reads how much CPU time a whole process, any process,
// has used: the figure bench divides by the requests served.
package proccpu

import "time"

// Process returns the CPU time (user and system) that process pid has
// used since it started, summed over all its threads, exited ones
// included, with nanosecond resolution.
func Process(pid int) (time.Duration, error) {
	return processImpl(pid)
}

// Thread returns the CPU time (user and system) that thread tid of
// process pid has used since it started, with nanosecond resolution: on
// the same clock as Process, so that a thread's share of its process is
// their ratio.
func Thread(pid, tid int) (time.Duration, error) {
	return threadImpl(pid, tid)
}
