package affinity

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/topology"
)

// MaxCPU must be what unix.CPUSet holds: these constants overflow, and the
// build fails, if the two ever differ.
const (
	_ = uint(MaxCPU - 8*unsafe.Sizeof(unix.CPUSet{}))
	_ = uint(8*unsafe.Sizeof(unix.CPUSet{}) - MaxCPU)
)

// confinePasses bounds Confine's walks over /proc/self/task: each pass
// sets the threads the previous one did not see, and a pass that sees no
// new thread ends the walk.
const confinePasses = 100

func pinImpl(cpus []int) error {
	allowed, err := allowedImpl()
	if err != nil {
		return err
	}
	if err := checkAllowed(cpus, allowed); err != nil {
		return err
	}
	set := toSet(cpus)
	runtime.LockOSThread()
	// From here on the thread stays locked whatever happens: a failed or
	// partial sched_setaffinity may still have changed its mask.
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return os.NewSyscallError("sched_setaffinity", err)
	}
	var got unix.CPUSet
	if err := unix.SchedGetaffinity(0, &got); err != nil {
		return os.NewSyscallError("sched_getaffinity", err)
	}
	if got != set {
		return fmt.Errorf("the kernel applied CPUs %s instead of %s",
			topology.FormatCPUList(fromSet(&got)), topology.FormatCPUList(cpus))
	}
	return nil
}

func allowedImpl() ([]int, error) {
	var union unix.CPUSet
	add := func(tid int) error {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			return os.NewSyscallError("sched_getaffinity", err)
		}
		for i := range union {
			union[i] |= set[i]
		}
		return nil
	}
	// The main thread first: its id is the process id, and it is there
	// even if /proc is not.
	if err := add(os.Getpid()); err != nil {
		return nil, err
	}
	err := eachThread(add)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // no /proc: the main thread's mask is all there is to go on
	}
	if err != nil {
		return nil, err
	}
	return fromSet(&union), nil
}

func currentImpl() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, os.NewSyscallError("sched_getaffinity", err)
	}
	return fromSet(&set), nil
}

func confineImpl(cpus []int) error {
	allowed, err := allowedImpl()
	if err != nil {
		return err
	}
	if err := checkAllowed(cpus, allowed); err != nil {
		return err
	}
	set := toSet(cpus)
	done := map[int]bool{}
	for range confinePasses {
		fresh := 0
		err := eachThread(func(tid int) error {
			if done[tid] {
				return nil
			}
			fresh++
			if err := unix.SchedSetaffinity(tid, &set); err != nil {
				return fmt.Errorf("thread %d: %w", tid, os.NewSyscallError("sched_setaffinity", err))
			}
			done[tid] = true
			return nil
		})
		if err != nil {
			return err
		}
		if fresh == 0 {
			return checkConfined(&set)
		}
	}
	return fmt.Errorf("threads kept appearing through %d walks of /proc/self/task", confinePasses)
}

// checkConfined checks that every thread's mask is set.
func checkConfined(set *unix.CPUSet) error {
	return eachThread(func(tid int) error {
		var got unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &got); err != nil {
			return fmt.Errorf("thread %d: %w", tid, os.NewSyscallError("sched_getaffinity", err))
		}
		if got != *set {
			return fmt.Errorf("thread %d: the kernel applied CPUs %s instead of %s", tid,
				topology.FormatCPUList(fromSet(&got)), topology.FormatCPUList(fromSet(set)))
		}
		return nil
	})
}

// eachThread calls fn with the id of every thread of the process. Threads
// that exit during the walk are skipped: fn's errors that wrap ESRCH are
// dropped.
func eachThread(fn func(tid int) error) error {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if err := fn(tid); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}

func threadCPUsAllowedImpl(pid, tid int) ([]int, error) {
	name := fmt.Sprintf("/proc/%d/task/%d/status", pid, tid)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Cpus_allowed_list:"); ok {
			cpus, err := topology.ParseCPUList(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return cpus, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return nil, fmt.Errorf("%s: no Cpus_allowed_list line", name)
}

// toSet returns the mask of cpus, which check has bounded by MaxCPU.
func toSet(cpus []int) unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return set
}

// fromSet returns the CPUs of set, sorted.
func fromSet(set *unix.CPUSet) []int {
	cpus := []int{}
	for c := range MaxCPU {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}
