package loadgen

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/bench/internal/workload"
)

// cpuListener records, for each connection it accepts, the CPU that
// processed its last incoming packet (SO_INCOMING_CPU): over loopback the
// CPU of the sending thread.
type cpuListener struct {
	net.Listener
	mu   sync.Mutex
	cpus []int
}

func (l *cpuListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return c, err
	}
	cpu, serr := -1, error(nil)
	raw.Control(func(fd uintptr) { cpu, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_INCOMING_CPU) })
	if serr == nil {
		l.mu.Lock()
		l.cpus = append(l.cpus, cpu)
		l.mu.Unlock()
	}
	return c, nil
}

func (l *cpuListener) take() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cpus
	l.cpus = nil
	slices.Sort(c)
	return c
}

// TestRunPinned runs steps with the connections dealt over CPUs 0 and 1
// and checks, at the server, that each connection's packets came from its
// CPU, and that the split rate still adds up to the step's.
func TestRunPinned(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(0) || !set.IsSet(1) {
		t.Skipf("needs CPUs 0 and 1 in the allowed mask (%v)", err)
	}
	s := &kvServer{m: map[string][]byte{}, stop: make(chan struct{})}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &cpuListener{Listener: inner}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() {
		close(s.stop)
		srv.Close()
	})
	cfg := Config{Addr: inner.Addr().String(), Conns: 4, Block: true, Timeout: 30 * time.Second}
	w := newWorkload(t, workload.Config{Keys: 100})
	if err := Preload(context.Background(), cfg, w); err != nil {
		t.Fatalf("Preload: %v", err)
	}
	ln.take()
	cfg.ConnCPUs = []int{0, 1}
	for _, rate := range []float64{0, 2000} {
		res, err := Run(context.Background(), cfg, w, Step{Rate: rate, Duration: 200 * time.Millisecond}, 1)
		if err != nil {
			t.Fatalf("Run at rate %v: %v", rate, err)
		}
		if res.Errors.Total() != 0 || res.Completed == 0 || res.Completed != res.Sent {
			t.Errorf("rate %v: %d completed of %d sent, errors %+v (%s)", rate, res.Completed, res.Sent, res.Errors, res.FirstError)
		}
		if rate > 0 && (res.Completed != 400 || res.Lateness.TotalCount() != 400) {
			t.Errorf("open loop at 2000/s for 200ms over 2 loops: %d answers, %d lateness samples, want 400", res.Completed, res.Lateness.TotalCount())
		}
		if got := ln.take(); !slices.Equal(got, []int{0, 0, 1, 1}) {
			t.Errorf("rate %v: incoming CPUs of the 4 connections %v, want [0 0 1 1]", rate, got)
		}
	}
	if err := (Config{ConnCPUs: []int{1024}}).Validate(); err == nil || err.Error() != "connection CPU 1024: want 0 to 1023" {
		t.Errorf("Validate(ConnCPUs 1024) = %v", err)
	}
}
