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
