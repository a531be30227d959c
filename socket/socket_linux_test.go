package socket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenT opens a group and closes it when the test ends.
func listenT(t *testing.T, cfg Config, n int) []*Listener {
	t.Helper()
	lns, err := ListenGroup(cfg, n)
	if err != nil {
		t.Fatalf("ListenGroup(%+v, %d): %v", cfg, n, err)
	}
	t.Cleanup(func() {
		for _, l := range lns {
			l.Close()
		}
	})
	return lns
}

// needIPv6 skips the test when this kernel or namespace has no ::1.
func needIPv6(t *testing.T) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("IPv6 not available: socket: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}); err != nil {
		t.Skipf("IPv6 not available: bind [::1]:0: %v", err)
	}
}

// readSysctl reads an integer from /proc/sys.
func readSysctl(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/sys", name))
	if err != nil {
		t.Fatalf("read sysctl: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return n
}

func getInt(t *testing.T, fd, level, opt int, name string) int {
	t.Helper()
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		t.Fatalf("getsockopt %s: %v", name, err)
	}
	return v
}

// wantBuffer is what getsockopt reports after setsockopt(SO_*BUF, req).
func wantBuffer(req, max int) int { return 2 * min(req, max) }

func TestListenGroupOptions(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		ipv6       bool
		wantFamily int
		wantAddr   netip.Addr
		wantDual   bool
	}{
		{name: "ipv4 defaults", cfg: Config{Host: "127.0.0.1"}, wantFamily: unix.AF_INET, wantAddr: netip.MustParseAddr("127.0.0.1")},
		{name: "localhost small buffers", cfg: Config{Host: "localhost", SendBuffer: 64 << 10, RecvBuffer: 32 << 10, Backlog: 16},
			wantFamily: unix.AF_INET, wantAddr: netip.MustParseAddr("127.0.0.1")},
		{name: "backlog above somaxconn", cfg: Config{Host: "127.0.0.1", Backlog: 1 << 30}, wantFamily: unix.AF_INET, wantAddr: netip.MustParseAddr("127.0.0.1")},
		{name: "ipv6 loopback", cfg: Config{Host: "::1"}, ipv6: true, wantFamily: unix.AF_INET6, wantAddr: netip.IPv6Loopback()},
		{name: "ipv6 any is ipv6 only", cfg: Config{Host: "::"}, ipv6: true, wantFamily: unix.AF_INET6, wantAddr: netip.IPv6Unspecified()},
		{name: "all interfaces dual stack", cfg: Config{}, ipv6: true, wantFamily: unix.AF_INET6, wantAddr: netip.IPv6Unspecified(), wantDual: true},
	}
	somax := readSysctl(t, "net/core/somaxconn")
	wmax, rmax := readSysctl(t, "net/core/wmem_max"), readSysctl(t, "net/core/rmem_max")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ipv6 {
				needIPv6(t)
			}
			l := listenT(t, tc.cfg, 1)[0]
			cfg := tc.cfg.withDefaults()
			want := Effective{
				SendBuffer: wantBuffer(cfg.SendBuffer, wmax),
				RecvBuffer: wantBuffer(cfg.RecvBuffer, rmax),
				Backlog:    min(cfg.Backlog, somax),
				Somaxconn:  somax,
				DualStack:  tc.wantDual,
			}
			if l.Effective != want {
				t.Errorf("Effective = %+v, want %+v", l.Effective, want)
			}
			if l.Addr.Addr() != tc.wantAddr || l.Addr.Port() == 0 {
				t.Errorf("Addr = %v, want %v with a port", l.Addr, tc.wantAddr)
			}
			checkListenerFD(t, l, tc.wantFamily, want)
		})
	}
}

// checkListenerFD reads the options of l.FD back with getsockopt/fcntl.
func checkListenerFD(t *testing.T, l *Listener, family int, want Effective) {
	t.Helper()
	for _, o := range []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1},
		{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1},
		{"SO_ACCEPTCONN", unix.SOL_SOCKET, unix.SO_ACCEPTCONN, 1},
		{"SO_DOMAIN", unix.SOL_SOCKET, unix.SO_DOMAIN, family},
		{"SO_TYPE", unix.SOL_SOCKET, unix.SO_TYPE, unix.SOCK_STREAM},
		{"SO_SNDBUF", unix.SOL_SOCKET, unix.SO_SNDBUF, want.SendBuffer},
		{"SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF, want.RecvBuffer},
	} {
		if got := getInt(t, l.FD, o.level, o.opt, o.name); got != o.want {
			t.Errorf("getsockopt(%s) = %d, want %d", o.name, got, o.want)
		}
	}
	if family == unix.AF_INET6 {
		if got := getInt(t, l.FD, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, "IPV6_V6ONLY"); (got == 0) != want.DualStack {
			t.Errorf("IPV6_V6ONLY = %d, want dual stack %v", got, want.DualStack)
		}
	}
	checkFlags(t, l.FD)
}

// checkFlags asserts that fd is non-blocking and close-on-exec.
func checkFlags(t *testing.T, fd int) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("F_GETFL = %#x, %v: want O_NONBLOCK", fl, err)
	}
	fd0, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || fd0&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD = %#x, %v: want FD_CLOEXEC", fd0, err)
	}
}

// acceptAll accepts on the listeners until want connections came in,
// waiting with poll, and returns the accepted descriptors per listener.
func acceptAll(t *testing.T, lns []*Listener, want int) [][]int {
	t.Helper()
	got := make([][]int, len(lns))
	t.Cleanup(func() {
		for _, fds := range got {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	})
	pfds := make([]unix.PollFd, len(lns))
	for i, l := range lns {
		pfds[i] = unix.PollFd{Fd: int32(l.FD), Events: unix.POLLIN}
	}
	for total := 0; total < want; {
		// The timeout only stops a broken test from hanging.
		n, err := unix.Poll(pfds, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("poll: %d ready, %v; accepted %d of %d", n, err, total, want)
		}
		for i, l := range lns {
			for {
				fd, _, err := Accept(l.FD)
				if errors.Is(err, unix.EAGAIN) {
					break
				}
				if err != nil {
					t.Fatalf("Accept: %v", err)
				}
				got[i] = append(got[i], fd)
				total++
			}
		}
	}
	return got
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAccept(t *testing.T) {
	tests := []struct {
		name string
		host string
		ipv6 bool
	}{
		{name: "ipv4", host: "127.0.0.1"},
		{name: "ipv6", host: "::1", ipv6: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ipv6 {
				needIPv6(t)
			}
			l := listenT(t, Config{Host: tc.host, RecvBuffer: 256 << 10}, 1)[0]
			c := dial(t, l.Addr.String())
			fd, sa := acceptOne(t, l)
			if got := getInt(t, fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, "TCP_NODELAY"); got != 1 {
				t.Errorf("TCP_NODELAY on accepted socket = %d, want 1", got)
			}
			if got := getInt(t, fd, unix.SOL_SOCKET, unix.SO_RCVBUF, "SO_RCVBUF"); got != l.Effective.RecvBuffer {
				t.Errorf("SO_RCVBUF on accepted socket = %d, want the listener's %d", got, l.Effective.RecvBuffer)
			}
			checkFlags(t, fd)
			want := c.LocalAddr().(*net.TCPAddr).AddrPort()
			if got := sockaddrAddrPort(sa); got != want {
				t.Errorf("Accept peer = %v (%#v), want the client %v", got, sa, want)
			}
		})
	}
}

// acceptOne waits for one connection on l and accepts it.
func acceptOne(t *testing.T, l *Listener) (int, unix.Sockaddr) {
	t.Helper()
	waitReadable(t, l.FD)
	fd, sa, err := Accept(l.FD)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, sa
}

func sockaddrAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func TestAcceptEmptyQueue(t *testing.T) {
	l := listenT(t, Config{Host: "127.0.0.1"}, 1)[0]
	fd, sa, err := Accept(l.FD)
	if !errors.Is(err, unix.EAGAIN) || fd != -1 || sa != nil {
		t.Fatalf("Accept on an empty queue = %d, %v, %v; want -1, nil, EAGAIN", fd, sa, err)
	}
}

// TestAcceptAllocs guards Accept's allocations: none for EAGAIN, which
// ends every accept batch, and only the peer address for a connection.
func TestAcceptAllocs(t *testing.T) {
	const runs = 20
	l := listenT(t, Config{Host: "127.0.0.1"}, 1)[0]
	measure := func(accept func() (int, error)) float64 {
		conns := make([]net.Conn, runs+1) // AllocsPerRun runs f once more to warm up
		for i := range conns {
			conns[i] = dial(t, l.Addr.String())
		}
		waitReadable(t, l.FD)
		return testing.AllocsPerRun(runs, func() {
			fd, err := accept()
			for errors.Is(err, unix.EAGAIN) { // handshake still completing
				waitReadable(t, l.FD)
				fd, err = accept()
			}
			if err != nil {
				t.Fatalf("accept: %v", err)
			}
			unix.Close(fd)
		})
	}
	base := measure(func() (int, error) {
		fd, _, err := unix.Accept4(l.FD, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return fd, err
	})
	ours := measure(func() (int, error) {
		fd, _, err := Accept(l.FD)
		return fd, err
	})
	t.Logf("allocations per accepted connection: Accept %v, unix.Accept4 %v", ours, base)
	if ours > base || ours > 1 {
		t.Errorf("Accept allocates %v per call, want at most 1 (the peer address) and at most unix.Accept4's %v", ours, base)
	}
	if n := testing.AllocsPerRun(100, func() { Accept(l.FD) }); n != 0 {
		t.Errorf("Accept on an empty queue allocates %v per call, want 0", n)
	}
}

func waitReadable(t *testing.T, fd int) {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd, 10_000); n != 1 || err != nil {
		t.Fatalf("poll listener: %d, %v", n, err)
	}
}

// TestListenGroupSpreads drives connections at a group on port 0 and
// checks that SO_REUSEPORT gave every listener some. The kernel hashes
// the 4-tuple, so with 200 connections a listener left empty has odds
// of about 4*(3/4)^200.
func TestListenGroupSpreads(t *testing.T) {
	const n, conns = 4, 200
	lns := listenT(t, Config{Host: "127.0.0.1"}, n)
	for _, l := range lns {
		if l.Addr != lns[0].Addr {
			t.Fatalf("listener addresses %v and %v differ", l.Addr, lns[0].Addr)
		}
	}
	for range conns {
		dial(t, lns[0].Addr.String())
	}
	got := acceptAll(t, lns, conns)
	counts := make([]int, n)
	for i, fds := range got {
		counts[i] = len(fds)
	}
	t.Logf("connections per listener: %v", counts)
	for i, c := range counts {
		if c == 0 {
			t.Errorf("listener %d accepted no connection: per listener %v", i, counts)
		}
	}
}

// TestListenGroupPortTaken checks that a port already held, with or
// without SO_REUSEPORT, is refused with EADDRINUSE.
func TestListenGroupPortTaken(t *testing.T) {
	reusePort := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	tests := []struct {
		name string
		host string
		hold func(t *testing.T) int // returns the held port
	}{
		{name: "another group", host: "127.0.0.1", hold: func(t *testing.T) int {
			return int(listenT(t, Config{Host: "127.0.0.1"}, 2)[0].Addr.Port())
		}},
		{name: "plain net.Listen", host: "127.0.0.1", hold: func(t *testing.T) int {
			return holdNet(t, net.ListenConfig{}, "127.0.0.1:0")
		}},
		{name: "foreign SO_REUSEPORT listener", host: "127.0.0.1", hold: func(t *testing.T) int {
			return holdNet(t, reusePort, "127.0.0.1:0")
		}},
		{name: "dual-stack group, ipv4 asked", host: "127.0.0.1", hold: func(t *testing.T) int {
			needIPv6(t)
			return int(listenT(t, Config{}, 1)[0].Addr.Port())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := tc.hold(t)
			cfg := Config{Host: tc.host, Port: port}
			lns, err := ListenGroup(cfg, 2)
			for _, l := range lns {
				l.Close()
			}
			want := fmt.Sprintf("listen on %s:%d: address already in use (another corekv or another program holds the port)", tc.host, port)
			if !errors.Is(err, unix.EADDRINUSE) || err.Error() != want {
				t.Fatalf("ListenGroup(%+v) error = %v, want %q matching EADDRINUSE", cfg, err, want)
			}
		})
	}
}

func holdNet(t *testing.T, lc net.ListenConfig, addr string) int {
	t.Helper()
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestListenGroupReopen closes a group that left a TIME_WAIT connection
// behind and opens the same port again.
func TestListenGroupReopen(t *testing.T) {
	lns, err := ListenGroup(Config{Host: "127.0.0.1"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	port := int(lns[0].Addr.Port())
	c := dial(t, lns[0].Addr.String())
	accepted := acceptAll(t, lns, 1)
	for _, fds := range accepted {
		for _, fd := range fds {
			unix.Close(fd) // the server closes first: TIME_WAIT on our port
		}
	}
	io.Copy(io.Discard, c) // wait for the FIN
	c.Close()
	for i, l := range lns {
		if err := l.Close(); err != nil {
			t.Fatalf("Close listener %d: %v", i, err)
		}
	}
	again := listenT(t, Config{Host: "127.0.0.1", Port: port}, 2)
	if got := int(again[1].Addr.Port()); got != port {
		t.Fatalf("reopened on port %d, want %d", got, port)
	}
}

// TestListenGroupDualStack connects over IPv4 and IPv6 to "".
func TestListenGroupDualStack(t *testing.T) {
	needIPv6(t)
	l := listenT(t, Config{}, 1)[0]
	port := strconv.Itoa(int(l.Addr.Port()))
	dial(t, net.JoinHostPort("127.0.0.1", port))
	dial(t, net.JoinHostPort("::1", port))
	fds := acceptAll(t, []*Listener{l}, 2)[0]
	if len(fds) != 2 {
		t.Fatalf("accepted %d connections, want 2", len(fds))
	}
}

func TestCloseTwice(t *testing.T) {
	lns, err := ListenGroup(Config{Host: "127.0.0.1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := lns[0]
	if err := l.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	// The freed descriptor number is likely reused right away; a second
	// Close must not close it.
	other, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(other)
	if err := l.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	if _, err := unix.FcntlInt(uintptr(other), unix.F_GETFD, 0); err != nil {
		t.Errorf("descriptor %d was closed by the second Close: %v", other, err)
	}
	if _, err := l.NetListener(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("NetListener after Close = %v, want net.ErrClosed", err)
	}
}

// TestNetListener serves HTTP over NetListener after the Listener itself
// was closed, as the std engine does.
func TestNetListener(t *testing.T) {
	lns, err := ListenGroup(Config{Host: "127.0.0.1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := lns[0]
	ln, err := l.NetListener()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	noDelay := make(chan int, 1)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello "+r.URL.Path)
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				noDelay <- connNoDelay(c)
			}
		},
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + l.Addr.String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "hello /x" {
		t.Fatalf("GET /x = %d %q, %v; want 200 %q", resp.StatusCode, body, err, "hello /x")
	}
	if got := <-noDelay; got != 1 {
		t.Errorf("TCP_NODELAY on a NetListener connection = %d, want 1", got)
	}
	if got := ln.Addr().String(); got != l.Addr.String() {
		t.Errorf("NetListener address %s, want %s", got, l.Addr)
	}
}

func connNoDelay(c net.Conn) int {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return -1
	}
	v := -1
	rc.Control(func(fd uintptr) {
		v, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY)
	})
	return v
}

func TestReadSomaxconn(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content *string
		want    int
		wantErr bool
	}{
		{name: "value", content: ptr("4096\n"), want: 4096},
		{name: "missing file", want: 0},
		{name: "garbage", content: ptr("lots\n"), wantErr: true},
		{name: "negative", content: ptr("-1\n"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readSomaxconn(path)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("readSomaxconn(%q) = %d, %v; want %d, error %v", path, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func ptr(s string) *string { return &s }
