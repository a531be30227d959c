package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTaskset runs taskset in a child test process that execs grep on its
// own status: the new program must start narrowed to the mask.
func TestTaskset(t *testing.T) {
	if os.Getenv("VMTEST_TASKSET_CHILD") == "1" {
		err := taskset([]string{"1", "/bin/grep", "Cpus_allowed_list", "/proc/self/status"})
		t.Fatalf("taskset returned: %v", err)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(1) {
		t.Skipf("CPU 1 not in the affinity mask (%v)", err)
	}
	if _, err := os.Stat("/bin/grep"); err != nil {
		t.Skipf("no /bin/grep: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTaskset$")
	cmd.Env = append(os.Environ(), "VMTEST_TASKSET_CHILD=1")
	out, err := cmd.CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "Cpus_allowed_list:\t1" {
		t.Errorf("taskset 1 grep = %q, %v, want Cpus_allowed_list 1", got, err)
	}
}

func TestTasksetRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		wantErr string
	}{
		{"no program", []string{"0"}, "usage: taskset"},
		{"bad list", []string{"x", "/bin/true"}, `parse cpulist "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := taskset(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("taskset(%q) = %v, want %q", tc.in, err, tc.wantErr)
			}
		})
	}
}
