package main

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/seccomptest"
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/topology"
)

// TestSteerUnderSeccomp runs itself again in a child process whose
// seccomp filter refuses SO_ATTACH_REUSEPORT_CBPF: there steer must log
// one warning naming EPERM, and the group must still take connections
// (the kernel's hash).
func TestSteerUnderSeccomp(t *testing.T) {
	if !seccomptest.Child(t, seccomptest.RefuseSteering) {
		return
	}
	g, err := socket.OpenGroup(socket.Config{Host: "127.0.0.1"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range g.Listeners {
			l.Close()
		}
	}()
	m := topology.FromCPUs([]int{0, 1})
	plan, err := topology.Plan(m, []int{0, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	steer(g, steerCPU, m, plan, func(f string, args ...any) { logs = append(logs, fmt.Sprintf(f, args...)) })
	want := "warning: --steer=cpu: socket: attach steering program: setsockopt SO_ATTACH_REUSEPORT_CBPF: operation not permitted: " +
		"the kernel's hash spreads connections over the shards instead"
	if len(logs) != 1 || logs[0] != want {
		t.Errorf("steer under seccomp logged %q, want one warning %q", logs, want)
	}
	// The group still takes connections.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ap := g.Listeners[0].Addr
	if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		t.Fatalf("connect to the group after the refused program: %v", err)
	}
}
