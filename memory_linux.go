package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// availableMemory returns the bytes of memory this process may use: the
// machine's RAM (MemTotal in /proc/meminfo), or the cgroup v2 memory.max of
// the process's cgroup when that is lower.
func availableMemory() (int64, error) {
	total, err := memTotal("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	limit, err := cgroupMemoryMax("/proc/self/cgroup", "/sys/fs/cgroup")
	if err != nil {
		return 0, err
	}
	if limit > 0 && limit < total {
		return limit, nil
	}
	return total, nil
}

func memTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) == 3 && string(fields[0]) == "MemTotal:" && string(fields[2]) == "kB" {
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			if err != nil || kb <= 0 {
				return 0, fmt.Errorf("parse %s: bad MemTotal %q", path, fields[1])
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("parse %s: no MemTotal line", path)
}

// cgroupMemoryMax returns the cgroup v2 memory.max of the process's cgroup,
// or 0 when there is none ("max", cgroup v1, or no such file).
func cgroupMemoryMax(selfCgroup, mount string) (int64, error) {
	data, err := os.ReadFile(selfCgroup)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var rel string
	for _, line := range bytes.Split(data, []byte("\n")) {
		if p, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			rel = string(p)
		}
	}
	if rel == "" {
		return 0, nil // cgroup v1 only
	}
	raw, err := os.ReadFile(mount + rel + "/memory.max")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s := string(bytes.TrimSpace(raw))
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parse %s: bad value %q", mount+rel+"/memory.max", s)
	}
	return n, nil
}
