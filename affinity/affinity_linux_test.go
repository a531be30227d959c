package affinity

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/topology"
)

// getcpu returns the CPU the calling thread runs on.
func getcpu(t *testing.T) int {
	var cpu uint32
	if _, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); errno != 0 {
		t.Errorf("getcpu: %v", errno)
	}
	return int(cpu)
}

// onNewGoroutine runs fn on a fresh goroutine and waits for it to exit. A
// goroutine that fn pinned exits still locked, so the runtime ends its
// thread and the pin cannot leak into other tests.
func onNewGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func TestPinEachCPU(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	for _, cpu := range allowed {
		t.Run("cpu"+strconv.Itoa(cpu), func(t *testing.T) {
			onNewGoroutine(func() {
				if err := Pin([]int{cpu}); err != nil {
					t.Errorf("Pin([%d]): %v", cpu, err)
					return
				}
				if got := getcpu(t); got != cpu {
					t.Errorf("pinned to CPU %d, getcpu says %d", cpu, got)
				}
				list, err := ThreadCPUsAllowed(os.Getpid(), unix.Gettid())
				if err != nil || !slices.Equal(list, []int{cpu}) {
					t.Errorf("Cpus_allowed_list = %v, %v, want [%d]", list, err, cpu)
				}
				if cur, err := Current(); err != nil || !slices.Equal(cur, []int{cpu}) {
					t.Errorf("Current() = %v, %v, want [%d]", cur, err, cpu)
				}
			})
		})
	}
	after, err := Allowed()
	if err != nil || !slices.Equal(after, allowed) {
		t.Errorf("Allowed() after pinning = %v, %v, want %v as before", after, err, allowed)
	}
}

func TestPinSet(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	onNewGoroutine(func() {
		if err := Pin(allowed); err != nil {
			t.Errorf("Pin(%v): %v", allowed, err)
			return
		}
		if cur, err := Current(); err != nil || !slices.Equal(cur, allowed) {
			t.Errorf("Current() = %v, %v, want %v", cur, err, allowed)
		}
	})
}

// firstDisallowed returns the lowest CPU id the process may not use.
func firstDisallowed(t *testing.T) int {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	for c := range MaxCPU {
		if !slices.Contains(allowed, c) {
			return c
		}
	}
	t.Skipf("all %d CPUs are allowed: no CPU to refuse", MaxCPU)
	return -1
}

func TestPinErrors(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	bad := firstDisallowed(t)
	list := topology.FormatCPUList(allowed)
	for _, tc := range []struct {
		name    string
		in      []int
		wantErr string
	}{
		{"empty", []int{}, "no CPUs given"},
		{"nil", nil, "no CPUs given"},
		{"negative", []int{0, -1}, "CPU -1 out of range: affinity masks hold CPUs 0-1023"},
		{"beyond the mask", []int{1024}, "CPU 1024 out of range: affinity masks hold CPUs 0-1023"},
		{"not allowed", []int{bad}, "CPU " + strconv.Itoa(bad) + " not allowed: the process may use CPUs " + list},
		{"some not allowed", []int{allowed[0], bad}, "CPU " + strconv.Itoa(bad) + " not allowed: the process may use CPUs " + list},
	} {
		t.Run(tc.name, func(t *testing.T) {
			onNewGoroutine(func() {
				before, _ := Current()
				err := Pin(tc.in)
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("Pin(%v) = %v, want error %q", tc.in, err, tc.wantErr)
				}
				if after, _ := Current(); !slices.Equal(after, before) {
					t.Errorf("failed Pin(%v) changed the thread's CPUs from %v to %v", tc.in, before, after)
				}
			})
			if err := Confine(tc.in); err == nil || err.Error() != tc.wantErr {
				t.Errorf("Confine(%v) = %v, want error %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

// TestAllowed checks that an unpinned thread carries the allowed set: the
// runtime never lends a pinned thread to other goroutines.
func TestAllowed(t *testing.T) {
	onNewGoroutine(func() {
		allowed, err := Allowed()
		if err != nil || len(allowed) == 0 {
			t.Errorf("Allowed() = %v, %v", allowed, err)
			return
		}
		cur, err := Current()
		if err != nil || !slices.Equal(cur, allowed) {
			t.Errorf("Current() on an unpinned thread = %v, %v, want Allowed() = %v", cur, err, allowed)
		}
	})
}

func TestThreadCPUsAllowedMissing(t *testing.T) {
	_, err := ThreadCPUsAllowed(os.Getpid(), -1)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ThreadCPUsAllowed of no thread: error %v, want one wrapping os.ErrNotExist", err)
	}
}

// confineChild names the environment variable that makes TestConfine the
// child process that does the confining.
const confineChild = "AFFINITY_TEST_CONFINE_CHILD"

// TestConfine confines a child copy of the test binary, since Confine
// changes every thread of the process it runs in.
func TestConfine(t *testing.T) {
	if os.Getenv(confineChild) == "1" {
		confineInChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConfine$", "-test.v")
	cmd.Env = append(os.Environ(), confineChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func confineInChild(t *testing.T) {
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if list, err := ThreadCPUsAllowed(os.Getpid(), os.Getpid()); err != nil || !slices.Equal(list, allowed) {
		t.Fatalf("main thread Cpus_allowed_list = %v, %v, want Allowed() = %v", list, err, allowed)
	}
	if len(allowed) > 1 {
		// A pinned main thread must not shrink the allowed set.
		one := toSet(allowed[:1])
		if err := unix.SchedSetaffinity(os.Getpid(), &one); err != nil {
			t.Fatal(err)
		}
		if got, err := Allowed(); err != nil || !slices.Equal(got, allowed) {
			t.Errorf("Allowed() with the main thread pinned = %v, %v, want %v", got, err, allowed)
		}
	}
	target := allowed[len(allowed)-1:]
	if err := Confine(target); err != nil {
		t.Fatalf("Confine(%v): %v", target, err)
	}
	onNewGoroutine(func() { // likely on a new thread, which must inherit the mask
		if cur, err := Current(); err != nil || !slices.Equal(cur, target) {
			t.Errorf("Current() after Confine = %v, %v, want %v", cur, err, target)
		}
	})
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if list, err := ThreadCPUsAllowed(os.Getpid(), tid); err != nil || !slices.Equal(list, target) {
			t.Errorf("thread %d: Cpus_allowed_list = %v, %v, want %v", tid, list, err, target)
		}
	}
	if got, err := Allowed(); err != nil || !slices.Equal(got, target) {
		t.Errorf("Allowed() after Confine = %v, %v, want %v", got, err, target)
	}
	t.Logf("confined %d threads to CPUs %v", len(tasks), target)
}
