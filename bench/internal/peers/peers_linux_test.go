package peers

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/corekv/corekv/affinity"
)

// TestMain lets the test binary act as a server: with PEERS_TEST_LISTEN
// set, it listens there, holds 8 MiB resident and accepts until killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PEERS_TEST_LISTEN"); addr != "" {
		helperServer(addr)
		return
	}
	os.Exit(m.Run())
}

func helperServer(addr string) {
	ballast := make([]byte, 8<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Exit(3)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(4)
		}
		c.Close()
		_ = ballast[len(ballast)-1]
	}
}

func TestStartMemoryStop(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skipf("taskset (util-linux) not installed: %v", err)
	}
	allowed, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PEERS_TEST_LISTEN", addr)
	cpu := allowed[len(allowed)-1]
	s, err := Start(context.Background(), Config{Bin: os.Args[0], Addr: addr, CPUs: []int{cpu}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.Peak < 8<<20 || m.Current < 8<<20 || m.Current > m.Peak {
		t.Errorf("Memory() = %+v, want at least the 8 MiB the helper holds, current <= peak", m)
	}
	got, err := affinity.ThreadCPUsAllowed(s.Pid, s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != cpu {
		t.Errorf("server runs on CPUs %v, want [%d]", got, cpu)
	}
	// The helper dies of SIGTERM: not a clean exit.
	if err := s.Stop(); err == nil || !strings.Contains(err.Error(), "signal: terminated") {
		t.Errorf("Stop() = %v, want the signal reported", err)
	}
	if _, err := s.Memory(); err == nil {
		t.Error("Memory() of a stopped server succeeded")
	}
}

func TestStartExits(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Config{Bin: "false", Addr: addr, Ready: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "false exited before listening on "+addr) {
		t.Errorf("Start(false) error = %v, want it to say the server exited", err)
	}
}

func TestStartMissingBinary(t *testing.T) {
	_, err := Start(context.Background(), Config{Bin: "/nonexistent/server", Addr: "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "start /nonexistent/server") {
		t.Errorf("Start error = %v, want it to name the binary", err)
	}
}
