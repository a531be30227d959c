package memlimit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAvailable reads fixture trees: a proc root with meminfo and
// self/cgroup, and a cgroup root with the process's memory.max.
func TestAvailable(t *testing.T) {
	const ram = "MemTotal: 4194304 kB\n" // 4 GiB
	tests := []struct {
		name, meminfo, self, max string // "" leaves the file out
		want                     int64
		wantErr                  string // %[1]s is the proc root, %[2]s the cgroup root
	}{
		{"cgroup limit below RAM", ram, "0::/app\n", "1073741824\n", 1 << 30, ""},
		{"cgroup limit above RAM", ram, "0::/app\n", "8589934592\n", 4 << 30, ""},
		{"unlimited cgroup", ram, "0::/app\n", "max\n", 4 << 30, ""},
		{"cgroup v1 only", ram, "4:memory:/app\n", "1\n", 4 << 30, ""},
		{"no memory.max", ram, "0::/app\n", "", 4 << 30, ""},
		{"no self/cgroup", ram, "", "", 4 << 30, ""},
		{"bad memory.max", ram, "0::/app\n", "lots\n", 0, `parse %[2]s/app/memory.max: bad value "lots"`},
		{"bad meminfo", "MemTotal: lots kB\n", "0::/app\n", "1\n", 0, `parse %[1]s/meminfo: bad MemTotal "lots"`},
		{"no MemTotal", "MemFree: 1 kB\n", "", "", 0, "parse %[1]s/meminfo: no MemTotal line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			proc, cg := filepath.Join(dir, "proc"), filepath.Join(dir, "cg")
			writeFile(t, filepath.Join(proc, "meminfo"), tc.meminfo)
			if tc.self != "" {
				writeFile(t, filepath.Join(proc, "self", "cgroup"), tc.self)
			}
			if tc.max != "" {
				writeFile(t, filepath.Join(cg, "app", "memory.max"), tc.max)
			}
			got, err := Available(proc, cg)
			wantErr := tc.wantErr
			if wantErr != "" {
				wantErr = fmt.Sprintf(wantErr, proc, cg)
			}
			if got != tc.want || errText(err) != wantErr {
				t.Errorf("Available = %d, %v; want %d, %q", got, err, tc.want, wantErr)
			}
		})
	}
}

func TestAvailableLive(t *testing.T) {
	n, err := Available(DefaultProcRoot, DefaultCgroupRoot)
	if err != nil || n <= 0 {
		t.Errorf("Available(%q, %q) = %d, %v; want a positive size", DefaultProcRoot, DefaultCgroupRoot, n, err)
	}
	if auto, err := Auto().Resolve(DefaultProcRoot, DefaultCgroupRoot); err != nil || auto != n/100*AutoPercent {
		t.Errorf("Auto().Resolve = %d, %v; want %d", auto, err, n/100*AutoPercent)
	}
}
