package socket

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// somaxconnPath is where Linux exposes net.core.somaxconn.
const somaxconnPath = "/proc/sys/net/core/somaxconn"

func listenGroupImpl(cfg Config, addr netip.Addr, n int) (*Group, error) {
	ap, dual, err := probe(addr, cfg.Port)
	if err != nil {
		return nil, err
	}
	somax, err := readSomaxconn(somaxconnPath)
	if err != nil {
		return nil, err
	}
	g := &Group{cfg: cfg, ap: ap, dual: dual, somaxconn: somax}
	for range n {
		if _, err := g.join(); err != nil {
			for _, l := range g.Listeners {
				l.Close()
			}
			return nil, err
		}
	}
	return g, nil
}

// join opens one more listener of g, which the kernel appends to its
// socket array (see Group), and appends it to g.Listeners.
func (g *Group) join() (*Listener, error) {
	l, err := listen(g.cfg, g.ap, g.dual)
	if err != nil {
		return nil, err
	}
	l.Effective.Somaxconn = g.somaxconn
	l.group = g
	g.Listeners = append(g.Listeners, l)
	g.slots = append(g.slots, l)
	return l, nil
}

// probe checks that nobody holds the port by binding it without
// SO_REUSEPORT, and returns the address the group must bind: with the
// family resolved when addr is invalid (all interfaces) and the port the
// kernel chose when port is 0. dual reports whether that address is the
// dual-stack "::".
func probe(addr netip.Addr, port int) (ap netip.AddrPort, dual bool, err error) {
	if addr.IsValid() {
		ap, err = probeBind(netip.AddrPortFrom(addr, uint16(port)), false)
		return ap, false, err
	}
	ap, err = probeBind(netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(port)), true)
	if err == nil || !(errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EADDRNOTAVAIL)) {
		return ap, err == nil, err
	}
	// No IPv6 in this kernel (or namespace): all IPv4 interfaces.
	ap, err = probeBind(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)), false)
	return ap, false, err
}

// probeBind binds a socket without SO_REUSEPORT to ap, reads back the
// bound address and closes the socket again.
func probeBind(ap netip.AddrPort, dual bool) (netip.AddrPort, error) {
	fd, err := newSocket(ap, dual, false)
	if err != nil {
		return ap, err
	}
	defer unix.Close(fd)
	if err := bind(fd, ap); err != nil {
		return ap, err
	}
	return boundAddr(fd, ap)
}

// listen opens one member of the group on ap.
func listen(cfg Config, ap netip.AddrPort, dual bool) (*Listener, error) {
	fd, err := newSocket(ap, dual, true)
	if err != nil {
		return nil, err
	}
	l, err := setUp(fd, cfg, ap)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return l, nil
}

// setUp sets the buffers of the fresh socket fd, binds it to ap, listens
// and reads back what the kernel applied.
func setUp(fd int, cfg Config, ap netip.AddrPort) (*Listener, error) {
	if err := setInt(fd, ap, unix.SOL_SOCKET, unix.SO_SNDBUF, cfg.SendBuffer, "SO_SNDBUF"); err != nil {
		return nil, err
	}
	if err := setInt(fd, ap, unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.RecvBuffer, "SO_RCVBUF"); err != nil {
		return nil, err
	}
	if err := bind(fd, ap); err != nil {
		return nil, err
	}
	if err := unix.Listen(fd, cfg.Backlog); err != nil {
		return nil, fmt.Errorf("listen on %v: %w", ap, os.NewSyscallError("listen", err))
	}
	bound, err := boundAddr(fd, ap)
	if err != nil {
		return nil, err
	}
	eff, err := effective(fd, bound)
	if err != nil {
		return nil, err
	}
	return &Listener{FD: fd, Addr: bound, Effective: eff}, nil
}

// newSocket creates a non-blocking, close-on-exec TCP socket for ap's
// family with SO_REUSEADDR, SO_REUSEPORT if reusePort, and for IPv6
// IPV6_V6ONLY off if dual, on otherwise (never left to the sysctl).
func newSocket(ap netip.AddrPort, dual, reusePort bool) (int, error) {
	family := unix.AF_INET6
	if ap.Addr().Is4() {
		family = unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, fmt.Errorf("listen on %v: %w", ap, os.NewSyscallError("socket", err))
	}
	err = setInt(fd, ap, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1, "SO_REUSEADDR")
	if err == nil && reusePort {
		err = setInt(fd, ap, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1, "SO_REUSEPORT")
	}
	if err == nil && family == unix.AF_INET6 {
		err = setInt(fd, ap, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(!dual), "IPV6_V6ONLY")
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setInt sets an integer socket option, naming it and ap in the error.
func setInt(fd int, ap netip.AddrPort, level, opt, v int, name string) error {
	if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
		return fmt.Errorf("listen on %v: set %s: %w", ap, name, os.NewSyscallError("setsockopt", err))
	}
	return nil
}

// bind binds fd to ap; a taken port gives the port-ownership error.
func bind(fd int, ap netip.AddrPort) error {
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	err := unix.Bind(fd, sa)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EADDRINUSE):
		return fmt.Errorf("listen on %v: %w (another corekv or another program holds the port)", ap, err)
	}
	return fmt.Errorf("listen on %v: %w", ap, os.NewSyscallError("bind", err))
}

// boundAddr returns the address fd is bound to; ap names it in errors.
func boundAddr(fd int, ap netip.AddrPort) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return ap, fmt.Errorf("listen on %v: %w", ap, os.NewSyscallError("getsockname", err))
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), nil
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)), nil
	}
	return ap, fmt.Errorf("listen on %v: getsockname returned %T", ap, sa)
}

// effective reads back the options of the listening socket fd.
func effective(fd int, ap netip.AddrPort) (Effective, error) {
	var e Effective
	var err error
	get := func(level, opt int, name string) int {
		v, gerr := unix.GetsockoptInt(fd, level, opt)
		if gerr != nil && err == nil {
			err = fmt.Errorf("listen on %v: read %s: %w", ap, name, os.NewSyscallError("getsockopt", gerr))
		}
		return v
	}
	e.SendBuffer = get(unix.SOL_SOCKET, unix.SO_SNDBUF, "SO_SNDBUF")
	e.RecvBuffer = get(unix.SOL_SOCKET, unix.SO_RCVBUF, "SO_RCVBUF")
	if ap.Addr().Is6() {
		e.DualStack = get(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, "IPV6_V6ONLY") == 0
	}
	if err != nil {
		return e, err
	}
	// For a listening socket TCP_INFO reports the accept queue limit the
	// kernel applied (sk_max_ack_backlog) in tcpi_sacked.
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return e, fmt.Errorf("listen on %v: read TCP_INFO: %w", ap, os.NewSyscallError("getsockopt", err))
	}
	e.Backlog = int(info.Sacked)
	return e, nil
}

// readSomaxconn reads net.core.somaxconn from path; 0 if it does not exist.
func readSomaxconn(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("socket: read somaxconn: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("socket: parse %s: %q is not a connection count", path, b)
	}
	return n, nil
}

func netListenerImpl(l *Listener) (net.Listener, error) {
	fd, err := unix.FcntlInt(uintptr(l.FD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: dup listener %v: %w", l.Addr, os.NewSyscallError("fcntl", err))
	}
	f := os.NewFile(uintptr(fd), "listener "+l.Addr.String())
	defer f.Close() // net.FileListener holds a descriptor of its own
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("socket: listener %v: %w", l.Addr, err)
	}
	return ln, nil
}

func closeImpl(fd int) error {
	return os.NewSyscallError("close", unix.Close(fd))
}
