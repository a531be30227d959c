package socket

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// needCPUs skips the test unless the process may run on every CPU of cpus.
func needCPUs(t *testing.T, cpus ...int) {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("cannot read the affinity mask: %v", err)
	}
	for _, c := range cpus {
		if !set.IsSet(c) {
			t.Skipf("CPU %d is not in the allowed mask", c)
		}
	}
}

// connectFrom opens n connections to ap from a thread pinned to cpu, so
// that on loopback the kernel processes each SYN on cpu. The thread is
// never unpinned: it ends with its goroutine.
func connectFrom(t *testing.T, cpu int, ap netip.AddrPort, n int) {
	t.Helper()
	errc := make(chan error, 1)
	fds := make(chan []int, 1)
	go func() {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- err
			return
		}
		var opened []int
		defer func() { fds <- opened }()
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				errc <- err
				return
			}
			opened = append(opened, fd)
			if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	err := <-errc
	t.Cleanup(func() {
		for _, fd := range <-fds {
			unix.Close(fd)
		}
	})
	if err != nil {
		t.Fatalf("connect from CPU %d: %v", cpu, err)
	}
}

// countFrom connects n times from cpu and returns how many connections
// each listener of lns accepted.
func countFrom(t *testing.T, lns []*Listener, cpu, n int) []int {
	t.Helper()
	connectFrom(t, cpu, lns[0].Addr, n)
	counts := make([]int, len(lns))
	for i, fds := range acceptAll(t, lns, n) {
		counts[i] = len(fds)
	}
	return counts
}

func openGroupT(t *testing.T, n int) *Group {
	t.Helper()
	g, err := OpenGroup(Config{Host: "127.0.0.1"}, n)
	if err != nil {
		t.Fatalf("OpenGroup: %v", err)
	}
	t.Cleanup(func() {
		for _, l := range g.Listeners {
			l.Close()
		}
	})
	return g
}

// TestSteerByCPU checks on the real kernel that connections whose SYN CPU
// 0 or CPU 1 processes land on the listener the table names for that CPU.
func TestSteerByCPU(t *testing.T) {
	needCPUs(t, 0, 1)
	const n = 40
	for _, tc := range []struct {
		name  string
		route [][]int
		want  [2][]int // per CPU, connections per listener
	}{
		{name: "CPU i to listener i", route: [][]int{{0}, {1}}, want: [2][]int{{n, 0, 0}, {0, n, 0}}},
		{name: "crossed", route: [][]int{{2}, {0}}, want: [2][]int{{0, 0, n}, {n, 0, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := openGroupT(t, 3)
			if err := g.Steer(tc.route); err != nil {
				t.Fatalf("Steer: %v", err)
			}
			for cpu, want := range tc.want {
				if got := countFrom(t, g.Listeners, cpu, n); !equalInts(got, want) {
					t.Errorf("from CPU %d: accepted per listener %v, want %v", cpu, got, want)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSteerSpreadsOverCandidates: a CPU with two candidate listeners
// spreads over both by the receive hash, and never reaches the third.
func TestSteerSpreadsOverCandidates(t *testing.T) {
	needCPUs(t, 0)
	g := openGroupT(t, 3)
	if err := g.Steer([][]int{{0, 2}}); err != nil {
		t.Fatalf("Steer: %v", err)
	}
	got := countFrom(t, g.Listeners, 0, 200)
	if got[0] == 0 || got[1] != 0 || got[2] == 0 {
		t.Errorf("from CPU 0 steered to listeners 0 and 2: accepted per listener %v", got)
	}
}

// TestHashWithoutSteer is the baseline: without a program, connections
// from one CPU spread over every listener.
func TestHashWithoutSteer(t *testing.T) {
	needCPUs(t, 0)
	g := openGroupT(t, 2)
	got := countFrom(t, g.Listeners, 0, 200)
	if got[0] == 0 || got[1] == 0 {
		t.Errorf("from CPU 0 without steering: accepted per listener %v, want some on each", got)
	}
}

// TestReopenKeepsSteering reopens listeners on the real kernel and checks
// that the program still sends each CPU's connections to the listener the
// table names, which holds only if Group models the kernel's array.
func TestReopenKeepsSteering(t *testing.T) {
	needCPUs(t, 0, 1)
	const n = 30
	g := openGroupT(t, 3)
	if err := g.Steer([][]int{{0}, {2}}); err != nil {
		t.Fatalf("Steer: %v", err)
	}
	check := func(step string) {
		t.Helper()
		for cpu, want := range [][]int{{n, 0, 0}, {0, 0, n}} {
			if got := countFrom(t, g.Listeners, cpu, n); !equalInts(got, want) {
				t.Errorf("%s: from CPU %d: accepted per listener %v, want %v (slots %v)", step, cpu, got, want, g.slotIndexes())
			}
		}
	}
	reopen := func(i int) {
		t.Helper()
		old := g.Listeners[i]
		l, err := g.Reopen(i)
		if err != nil {
			t.Fatalf("Reopen(%d): %v", i, err)
		}
		if g.Listeners[i] != l || l == old || l.Addr != old.Addr {
			t.Fatalf("Reopen(%d) = %v, Listeners[%d] = %v, old %v", i, l.Addr, i, g.Listeners[i].Addr, old.Addr)
		}
		if err := old.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("the replaced listener is still open: Close = %v", err)
		}
	}
	reopen(0) // open: the new socket takes its slot
	check("after reopening open listener 0")
	// Closing listener 0 moves listener 2 into slot 0; reopening 0 appends
	// it at slot 2. A program compiled for slot = index sends CPU 0 to
	// listener 2 and CPU 1 past the end (to the hash).
	g.Listeners[0].Close()
	reopen(0)
	if want := []int{2, 1, 0}; !equalInts(g.slotIndexes(), want) {
		t.Errorf("slots after closing and reopening 0 = %v, want %v", g.slotIndexes(), want)
	}
	check("after closing and reopening listener 0")
	g.Listeners[1].Close()
	g.Listeners[2].Close()
	reopen(2)
	reopen(1)
	check("after closing 1 and 2, reopening 2 then 1")
}

// TestSteerFallsBack: a program the kernel would refuse leaves the
// group on the kernel's hash, and connections still arrive.
func TestSteerFallsBack(t *testing.T) {
	needCPUs(t, 0)
	g := openGroupT(t, 2)
	huge := make([][]int, 3000)
	for c := range huge {
		huge[c] = []int{c % 2}
	}
	if err := g.Steer(huge); err == nil {
		t.Fatal("Steer with 3000 ranges succeeded")
	}
	if g.route != nil {
		t.Errorf("failed Steer left route %v", g.route)
	}
	if err := g.Steer([][]int{{2}}); err == nil || err.Error() != "socket: steer: CPU 0 to listener 2 of a group of 2" {
		t.Errorf("Steer to a listener out of range: %v", err)
	}
	connectFrom(t, 0, g.Listeners[0].Addr, 10)
	acceptAll(t, g.Listeners, 10)
}
