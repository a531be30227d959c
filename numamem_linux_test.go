package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corekv/corekv/internal/seccomptest"
	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/topology"
)

// TestNewNUMAMemory makes the mappers on this machine: either both, with
// the policies asked for, or, where the kernel refuses policies, none and
// one warning.
func TestNewNUMAMemory(t *testing.T) {
	m, err := topology.Read(topology.DefaultRoot)
	if err != nil {
		t.Skipf("cannot read the topology: %v", err)
	}
	var logs []string
	logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	mem, err := newNUMAMemory("local", m, logf)
	if err != nil {
		t.Fatal(err)
	}
	if mem.values == nil {
		if mem.buffers != nil || len(logs) != 1 || !strings.HasPrefix(logs[0], "warning: --numa-memory=local: ") {
			t.Errorf("refused policies: buffers %v, logs %q, want no mapper and one warning", mem.buffers, logs)
		}
		t.Skipf("memory policies refused here: %s", logs[0])
	}
	if mem.values.Policy() != numa.Local || mem.buffers.Policy() != numa.Local || len(logs) != 1 ||
		!strings.HasPrefix(logs[0], "numa-memory: values local (over memory nodes ") {
		t.Errorf("newNUMAMemory(local) = values %v, buffers %v, logs %q", mem.values.Policy(), mem.buffers.Policy(), logs)
	}
	if f := mapFunc(mem.buffers); f == nil {
		t.Error("mapFunc(buffers) = nil")
	}
	if f := mapFunc(nil); f != nil {
		t.Error("mapFunc(nil) != nil")
	}
}

// TestNUMAMemoryUnderSeccomp runs itself again in a child process whose
// seccomp filter refuses memory policies, as a container's would: there
// newNUMAMemory must log one warning and place nothing, for every value
// of --numa-memory.
func TestNUMAMemoryUnderSeccomp(t *testing.T) {
	if !seccomptest.Child(t, seccomptest.RefuseMemoryPolicies) {
		return
	}
	m, err := topology.Read(topology.DefaultRoot)
	if err != nil {
		t.Skipf("cannot read the topology: %v", err)
	}
	for _, flag := range []string{"auto", "off", "interleave", "local"} {
		var logs []string
		logf := func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
		mem, err := newNUMAMemory(flag, m, logf)
		want := "warning: --numa-memory=" + flag + ": numa: get_mempolicy: operation not permitted: unsupported operation"
		if err != nil || mem.values != nil || mem.buffers != nil || len(logs) != 1 || !strings.HasPrefix(logs[0], want) {
			t.Errorf("newNUMAMemory(%s) under seccomp = %+v, %v, logs %q; want no mapper and one warning %q",
				flag, mem, err, logs, want)
		}
	}
}
