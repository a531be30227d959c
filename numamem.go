package main

import (
	"errors"
	"fmt"

	"github.com/corekv/corekv/numa"
	"github.com/corekv/corekv/topology"
)

// policyAuto is --numa-memory's default: numa.DefaultPolicy of the machine.
const policyAuto = "auto"

// validNUMAMemory checks a --numa-memory value.
func validNUMAMemory(s string) error {
	if s == policyAuto {
		return nil
	}
	if _, err := numa.ParsePolicy(s); err != nil {
		return fmt.Errorf("--numa-memory %q: want auto, off, interleave or local", s)
	}
	return nil
}

// resolvePolicy returns the policy --numa-memory names for m.
func resolvePolicy(s string, m *topology.Machine) (numa.Policy, error) {
	if s == policyAuto {
		return numa.DefaultPolicy(m), nil
	}
	if err := validNUMAMemory(s); err != nil {
		return numa.Off, err
	}
	return numa.ParsePolicy(s)
}

// numaMemory places the memory corekv maps itself. A nil Mapper means no
// placement: the memory goes where it is first touched.
type numaMemory struct {
	// values places the store's value segments, by --numa-memory.
	values *numa.Mapper
	// buffers places each shard's I/O buffers on the shard's node.
	buffers *numa.Mapper
}

// newNUMAMemory makes the mappers for --numa-memory=s on m. Where the
// kernel refuses memory policies (seccomp in a container, a kernel
// without NUMA) it logs one warning and places nothing.
func newNUMAMemory(s string, m *topology.Machine, logf func(string, ...any)) (numaMemory, error) {
	p, err := resolvePolicy(s, m)
	if err != nil {
		return numaMemory{}, err
	}
	var mem numaMemory
	mem.buffers, err = numa.New(numa.Config{Policy: numa.Local, Machine: m})
	if err == nil {
		mem.values, err = numa.New(numa.Config{Policy: p, Machine: m})
	}
	if errors.Is(err, errors.ErrUnsupported) {
		logf("warning: --numa-memory=%s: %v: placing no memory (as --numa-memory=off), shard buffers included", s, err)
		return numaMemory{}, nil
	}
	if err != nil {
		return numaMemory{}, fmt.Errorf("--numa-memory=%s: %w", s, err)
	}
	where := "where first touched"
	if p != numa.Off {
		where = "over memory nodes " + topology.FormatCPUList(mem.values.Nodes())
	}
	logf("numa-memory: values %v (%s); event-loop buffers preferred on their shard's node", p, where)
	return mem, nil
}

// mapFunc returns m's Map, or nil, which means no placement, for no m.
func mapFunc(m *numa.Mapper) func(size, node int) ([]byte, error) {
	if m == nil {
		return nil
	}
	return m.Map
}
