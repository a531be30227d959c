package main

import (
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/topology"
)

// --steer values.
const (
	steerAuto = "auto" // cpu with --pin-cores, hash otherwise
	steerCPU  = "cpu"
	steerHash = "hash"
)

// steerMode resolves --steer: auto means cpu when the shards are pinned
// (only then is a shard's CPU where its work runs), hash otherwise.
func steerMode(steer string, pinned bool) string {
	if steer != steerAuto {
		return steer
	}
	if pinned {
		return steerCPU
	}
	return steerHash
}

// steer attaches the connection-steering program for --steer=mode to g:
// with cpu, each connection goes to the shard of the CPU that received it,
// or to a shard of that CPU's node (topology.Route). Where the kernel
// refuses the program it logs one warning and the kernel's hash stays.
func steer(g *socket.Group, mode string, m *topology.Machine, plan []topology.Shard, logf func(string, ...any)) {
	if mode != steerCPU {
		logf("steer: hash (the kernel spreads connections over the shards by address and port)")
		return
	}
	if err := g.Steer(topology.Route(m, plan)); err != nil {
		logf("warning: --steer=cpu: %v: the kernel's hash spreads connections over the shards instead", err)
		return
	}
	logf("steer: cpu (each connection goes to the shard of the CPU that receives it, else to a shard of that CPU's node)")
}
