// Package affinity pins threads to CPUs through the Linux scheduler's CPU
// affinity masks (sched_setaffinity).
//
// CPU ids are the kernel's logical CPU numbers, as in topology.CPU. Masks
// hold CPUs 0 to MaxCPU-1; larger ids are refused, not silently dropped.
package affinity

import (
	"errors"
	"fmt"
	"slices"

	"github.com/corekv/corekv/topology"
)

// MaxCPU is the number of CPU ids an affinity mask holds here: the size
// of the kernel's cpu_set_t in glibc and of unix.CPUSet.
const MaxCPU = 1024

// Pin locks the calling goroutine to its OS thread and restricts that
// thread to cpus. It then reads the thread's mask back and fails unless the
// kernel applied exactly cpus.
//
// cpus must be a non-empty list of CPUs the process may use (see Allowed);
// otherwise Pin returns an error naming the allowed CPUs before it locks
// or changes anything. Once Pin has locked the thread it never unlocks it,
// even when it fails: the thread's mask may have changed, and an unlocked
// thread would carry that mask back to the runtime's pool and run other
// goroutines there. Callers must not call runtime.UnlockOSThread on a
// pinned goroutine either; they let it exit instead, and the runtime then
// ends the thread with it.
func Pin(cpus []int) error {
	if err := check(cpus); err != nil {
		return err
	}
	return pinImpl(cpus)
}

// Allowed returns the CPUs the process may run on, sorted: the union of the
// affinity masks of its threads. At start every thread carries the mask
// the process inherited (taskset, cgroup cpusets, the container's CPUs);
// Pin narrows single threads within that set, and threads that never run
// pinned code (the runtime's monitor thread among them) keep it, so the
// union stays the inherited set until Confine changes it. Unlike the mask
// of the main thread alone, it is right even when a pinned goroutine
// happened to lock the main thread.
func Allowed() ([]int, error) {
	return allowedImpl()
}

// Current returns the CPUs the calling thread may run on, sorted. Unless
// the goroutine is locked to its thread, the answer may be stale at once.
func Current() ([]int, error) {
	return currentImpl()
}

// Confine restricts every thread of the process, the Go runtime's
// included, to cpus, which must be CPUs the process may use. Threads
// created later inherit the mask, so the whole process stays on cpus.
// Confine overrides earlier pins: call it before Pin.
func Confine(cpus []int) error {
	if err := check(cpus); err != nil {
		return err
	}
	return confineImpl(cpus)
}

// ThreadCPUsAllowed returns the Cpus_allowed_list of thread tid of process
// pid, as /proc/<pid>/task/<tid>/status shows it: the kernel's own account
// of the thread's affinity mask, for checking Pin and Confine from outside.
func ThreadCPUsAllowed(pid, tid int) ([]int, error) {
	return threadCPUsAllowedImpl(pid, tid)
}

// check validates cpus before any system call.
func check(cpus []int) error {
	if len(cpus) == 0 {
		return errors.New("no CPUs given")
	}
	for _, c := range cpus {
		if c < 0 || c >= MaxCPU {
			return fmt.Errorf("CPU %d out of range: affinity masks hold CPUs 0-%d", c, MaxCPU-1)
		}
	}
	return nil
}

// checkAllowed returns an error naming the allowed CPUs unless every CPU
// of cpus is in allowed (both sorted or not).
func checkAllowed(cpus, allowed []int) error {
	var bad []int
	for _, c := range cpus {
		if !slices.Contains(allowed, c) {
			bad = append(bad, c)
		}
	}
	if bad == nil {
		return nil
	}
	noun := "CPU"
	if len(bad) > 1 {
		noun = "CPUs"
	}
	return fmt.Errorf("%s %s not allowed: the process may use CPUs %s",
		noun, topology.FormatCPUList(bad), topology.FormatCPUList(allowed))
}
