package peers

import (
	"strconv"
)

// MemcachedArgs returns memcached's arguments: listen on addr over TCP
// only (-U 0), one worker thread (-t 1), and an item memory limit of
// memoryMiB mebibytes (-m: slab pages, 1 MiB each, at least one per slab
// class in use; the hash table and connections come on top). Run as
// root, memcached also needs -u root.
func MemcachedArgs(addr string, memoryMiB int64, root bool) ([]string, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{"-l", host, "-p", port, "-U", "0", "-t", "1", "-m", strconv.FormatInt(memoryMiB, 10)}
	if root {
		args = append(args, "-u", "root")
	}
	return args, nil
}

// RedisArgs returns redis-server's arguments: listen on addr, no
// persistence (no RDB snapshots, no append-only file), and with
// maxMemory above 0 that limit in bytes (Redis counts its own
// used_memory: allocations, including its base and client buffers)
// with the given eviction policy (e.g. allkeys-lru).
func RedisArgs(addr string, maxMemory int64, policy string) ([]string, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{"--bind", host, "--port", port, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--logfile", "", "--protected-mode", "no"}
	if maxMemory > 0 {
		args = append(args, "--maxmemory", strconv.FormatInt(maxMemory, 10), "--maxmemory-policy", policy)
	}
	return args, nil
}

// CorekvArgs returns corekv's arguments: listen on addr with
// --max-memory maxMemory (bytes of keys plus values; 0 unlimited) and no
// admin listener (whose default port two servers would contend for),
// then extra.
func CorekvArgs(addr string, maxMemory int64, extra ...string) ([]string, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{"--host", host, "--port", port, "--max-memory", strconv.FormatInt(maxMemory, 10), "--admin-addr="}
	return append(args, extra...), nil
}
