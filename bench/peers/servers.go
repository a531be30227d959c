package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/corekv/corekv/bench/internal/kvproto"
	"github.com/corekv/corekv/bench/internal/peers"
)

// The servers compared.
const (
	corekv    = "corekv"
	memcached = "memcached"
	redis     = "redis"
)

// budget is a memory limit for one run: unlimited, or bytes.
type budget struct {
	bytes int64 // 0: unlimited (nothing evicted)
}

// unlimitedMemcachedMiB is memcached's -m when nothing may be evicted:
// memcached maps slab pages only as it fills them, so a large limit
// costs nothing.
const unlimitedMemcachedMiB = 64 << 10

// memcachedMinMiB is the smallest -m memcached accepts with its default
// 1 MiB item size limit (which must be at most half of -m).
const memcachedMinMiB = 2

// running is a started server.
type running struct {
	*peers.Server
	name  string
	addr  string
	proto kvproto.Protocol
	how   string // how its memory limit was set
}

// dial opens a pipelined connection to r.
func (r *running) dial(ctx context.Context) (*kvproto.Conn, error) {
	return kvproto.Dial(ctx, r.addr, r.proto, kvproto.Config{})
}

// launch starts server name with budget b on the server CPUs.
func (e *env) launch(ctx context.Context, name string, b budget) (*running, error) {
	addr, err := peers.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg := peers.Config{Addr: addr, CPUs: e.serverCPUs}
	var proto kvproto.Protocol
	var how string
	switch name {
	case corekv:
		cfg.Bin, proto = e.corekvBin, &kvproto.HTTP{Host: addr}
		cfg.Args, err = peers.CorekvArgs(addr, b.bytes, strings.Fields(e.CorekvArgs)...)
		how = strings.TrimSpace(fmt.Sprintf("--max-memory %d %s", b.bytes, e.CorekvArgs)) + " (what it counts: corekv --help)"
	case memcached:
		mib := int64(unlimitedMemcachedMiB)
		if b.bytes > 0 {
			mib = max(memcachedMinMiB, (b.bytes+1<<19)>>20)
		}
		cfg.Bin, proto = e.MemcachedBin, kvproto.Memcached{}
		cfg.Args, err = peers.MemcachedArgs(addr, mib, os.Geteuid() == 0)
		how = fmt.Sprintf("-m %d (MiB of 1 MiB slab pages, at least one per slab class in use)", mib)
	case redis:
		cfg.Bin, proto = e.RedisBin, kvproto.Redis{}
		cfg.Args, err = peers.RedisArgs(addr, b.bytes, "allkeys-lru")
		how = "no maxmemory"
		if b.bytes > 0 {
			how = fmt.Sprintf("--maxmemory %d --maxmemory-policy allkeys-lru (its used_memory)", b.bytes)
		}
	default:
		return nil, fmt.Errorf("unknown server %q: want corekv, memcached or redis", name)
	}
	if err != nil {
		return nil, err
	}
	if name == corekv && b.bytes == 0 {
		how = "--max-memory 0 (unlimited)"
	}
	s, err := peers.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &running{Server: s, name: name, addr: addr, proto: proto, how: how}, nil
}
