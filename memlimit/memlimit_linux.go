package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func availableImpl(procRoot, cgroupRoot string) (int64, error) {
	total, err := memTotal(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return 0, err
	}
	limit, err := cgroupMemoryMax(filepath.Join(procRoot, "self", "cgroup"), cgroupRoot)
	if err != nil {
		return 0, err
	}
	if limit > 0 && limit < total {
		return limit, nil
	}
	return total, nil
}

// memTotal returns MemTotal in bytes from the meminfo file at path.
func memTotal(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := parseMemTotal(data)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, nil
}

// cgroupMemoryMax returns the cgroup v2 memory.max of the cgroup that the
// file selfCgroup names, under the cgroup mount, or 0 when there is none
// ("max", cgroup v1, or no such file).
func cgroupMemoryMax(selfCgroup, mount string) (int64, error) {
	data, err := os.ReadFile(selfCgroup)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	rel := parseCgroupPath(data)
	if rel == "" {
		return 0, nil // cgroup v1 only
	}
	path := filepath.Join(mount, rel, "memory.max")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := parseMemoryMax(raw)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, nil
}
