package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/shard"
)

// TestSteerEndToEnd runs corekv with two pinned shards on CPUs 0 and 1
// and connects from threads pinned to each CPU (on loopback the kernel
// processes a SYN on the sending CPU). With --steer=cpu, /stats must show
// every connection from CPU c accepted by the shard on CPU c; with
// --steer=hash, connections from CPU 0 reach both shards.
func TestSteerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs corekv")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(0) || !set.IsSet(1) {
		t.Skipf("needs CPUs 0 and 1 in the allowed mask (%v)", err)
	}
	ctx := context.Background()
	bin, err := serverproc.Build(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	t.Run("cpu", func(t *testing.T) {
		srv := startCorekv(t, bin, "--steer=cpu")
		if !strings.Contains(srv.Output(), "steer: cpu") {
			t.Fatalf("no steering; output:\n%s", srv.Output())
		}
		for _, cpu := range []int{0, 1} {
			got := acceptedFrom(t, srv.Addr, cpu, n)
			want := map[int]uint64{cpu: n}
			if len(got) != 1 || got[cpu] != n {
				t.Errorf("from CPU %d: new connections per shard CPU %v, want %v", cpu, got, want)
			}
		}
	})
	t.Run("hash", func(t *testing.T) {
		srv := startCorekv(t, bin, "--steer=hash")
		got := acceptedFrom(t, srv.Addr, 0, 4*n)
		if got[0] == 0 || got[1] == 0 {
			t.Errorf("from CPU 0 with --steer=hash: new connections per shard CPU %v, want some on each", got)
		}
	})
}

func startCorekv(t *testing.T, bin string, args ...string) *serverproc.Process {
	t.Helper()
	args = append([]string{"--host=127.0.0.1", "--port=0", "--cpus=0,1", "--shards=2", "--pin-cores", "--max-memory=64MiB", "--admin-addr="}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = serverproc.HermeticEnv()
	srv, err := serverproc.Start(context.Background(), serverproc.Config{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// acceptedFrom connects n times from a thread pinned to cpu and returns,
// by the CPU of the shard, how many of them each shard accepted, as
// /stats reports it. /stats is read over one keep-alive connection made
// before, so that it does not count.
func acceptedFrom(t *testing.T, addr string, cpu, n int) map[int]uint64 {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	before := readStats(t, client, addr)
	fds := connectPinned(t, cpu, netip.MustParseAddrPort(addr), n)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := readStats(t, client, addr)
		got, total := map[int]uint64{}, uint64(0)
		for i, s := range after.Shards {
			if d := s.Accepted - before.Shards[i].Accepted; d > 0 {
				got[s.CPU] = d
				total += d
			}
		}
		if total >= uint64(n) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readStats(t *testing.T, client *http.Client, addr string) shard.Stats {
	t.Helper()
	resp, err := client.Get("http://" + addr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st shard.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode /stats: %v", err)
	}
	slices.SortFunc(st.Shards, func(a, b shard.ShardStats) int { return a.Shard - b.Shard })
	return st
}

// connectPinned opens n connections to ap from a thread pinned to cpu
// and returns their descriptors. The thread is never unpinned: it ends
// with its goroutine.
func connectPinned(t *testing.T, cpu int, ap netip.AddrPort, n int) []int {
	t.Helper()
	type result struct {
		fds []int
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		var r result
		defer func() { done <- r }()
		var set unix.CPUSet
		set.Set(cpu)
		if r.err = unix.SchedSetaffinity(0, &set); r.err != nil {
			return
		}
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				r.err = err
				return
			}
			r.fds = append(r.fds, fd)
			if r.err = unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); r.err != nil {
				return
			}
		}
	}()
	r := <-done
	if r.err != nil {
		for _, fd := range r.fds {
			unix.Close(fd)
		}
		t.Fatalf("connect from CPU %d: %v", cpu, r.err)
	}
	return r.fds
}
