package main

import (
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

func TestMemTotal(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, data string
		want       int64
		wantErr    bool
	}{
		{"usual", "MemTotal:       24576000 kB\nMemFree:  100 kB\n", 24576000 << 10, false},
		{"missing", "MemFree:  100 kB\n", 0, true},
		{"garbage", "MemTotal: lots kB\n", 0, true},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.name)
		writeFile(t, path, tc.data)
		got, err := memTotal(path)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("memTotal(%s) = %d, %v; want %d, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	if n, err := memTotal("/proc/meminfo"); err != nil || n <= 0 {
		t.Errorf("memTotal(/proc/meminfo) = %d, %v", n, err)
	}
}

func TestCgroupMemoryMax(t *testing.T) {
	tests := []struct {
		name, self, max string
		want            int64
		wantErr         bool
	}{
		{"limited", "0::/app\n", "1073741824\n", 1 << 30, false},
		{"unlimited", "0::/app\n", "max\n", 0, false},
		{"v1 only", "4:memory:/app\n", "", 0, false},
		{"no memory.max", "0::/app\n", "", 0, false},
		{"garbage", "0::/app\n", "lots\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "self"), tc.self)
			if tc.max != "" {
				writeFile(t, filepath.Join(dir, "cg", "app", "memory.max"), tc.max)
			}
			got, err := cgroupMemoryMax(filepath.Join(dir, "self"), filepath.Join(dir, "cg"))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("cgroupMemoryMax = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
