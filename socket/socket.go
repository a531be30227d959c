// Package socket opens the group of SO_REUSEPORT TCP listeners that the
// shards serve, one per shard, all on one port, with exact socket options
// and the values the kernel actually applied.
//
// The listeners are raw non-blocking descriptors, meant for an epoll loop
// (see Accept), and can be turned into a net.Listener for net/http (see
// (*Listener).NetListener). A Group can steer each new connection to the
// listener of the CPU that receives it (see (*Group).Steer) and reopen a
// listener without upsetting that. Only Linux is implemented; on other systems
// every function returns an error wrapping errors.ErrUnsupported, and
// Accept, whose signature carries a unix.Sockaddr, exists only on Linux.
package socket

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
)

// Defaults used for zero Config fields.
const (
	DefaultBacklog = 4096
	DefaultBuffer  = 4 << 20 // bytes
)

// Config describes the listeners to open. The zero value listens on all
// interfaces on a kernel-chosen port with the defaults below.
type Config struct {
	// Host is the address to listen on: an IPv4 or IPv6 literal, which
	// selects the family ("::" then means IPv6 only), or "localhost",
	// which means 127.0.0.1. Brackets around an IPv6 literal are allowed.
	// Host names are not resolved and zoned IPv6 addresses are refused.
	// The default "" means all interfaces: "::" with IPV6_V6ONLY off
	// (dual stack) when the kernel supports IPv6, "0.0.0.0" otherwise.
	Host string

	// Port is the TCP port, 0 to 65535. The default 0 lets the kernel
	// choose a free port, which all listeners of the group then share.
	Port int

	// Backlog is the length of each listener's accept queue, in
	// connections. The kernel caps it at net.core.somaxconn; Effective
	// reports what it applied. Default DefaultBacklog (4096).
	Backlog int

	// SendBuffer and RecvBuffer are the SO_SNDBUF and SO_RCVBUF sizes in
	// bytes, set on the listener before listen so that accepted
	// connections inherit them. The kernel doubles them and caps the
	// request at net.core.wmem_max and rmem_max; Effective reports the
	// result. Default DefaultBuffer (4 MiB) each.
	SendBuffer, RecvBuffer int
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.Backlog == 0 {
		c.Backlog = DefaultBacklog
	}
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultBuffer
	}
	if c.RecvBuffer == 0 {
		c.RecvBuffer = DefaultBuffer
	}
	return c
}

// validate reports the first field of c that is out of range.
func (c Config) validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("socket: port %d out of range 0-65535", c.Port)
	case c.Backlog < 0:
		return fmt.Errorf("socket: negative backlog %d", c.Backlog)
	case c.SendBuffer < 0 || c.RecvBuffer < 0:
		return fmt.Errorf("socket: negative buffer size (send %d, receive %d)", c.SendBuffer, c.RecvBuffer)
	}
	return nil
}

// parseHost turns Config.Host into an address. It returns the invalid
// netip.Addr{} for "", which stands for all interfaces.
func parseHost(host string) (netip.Addr, error) {
	switch host {
	case "":
		return netip.Addr{}, nil
	case "localhost":
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	s := host
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("socket: host %q is not an IP address or \"localhost\" (host names are not resolved)", host)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("socket: host %q: zoned IPv6 addresses are not supported", host)
	}
	return a.Unmap(), nil
}

// Listener is one raw listening TCP socket: non-blocking, close-on-exec,
// with SO_REUSEADDR and SO_REUSEPORT set.
type Listener struct {
	// FD is the listening descriptor, owned by the Listener until Close.
	FD int
	// Addr is the bound address, with the port the kernel chose if
	// Config.Port was 0. All interfaces in dual stack read as [::].
	Addr netip.AddrPort
	// Effective holds the options as the kernel applied them.
	Effective Effective

	closed atomic.Bool
	group  *Group // the group whose kernel order the listener is part of
}

// Close closes the descriptor. It is safe to call more than once and
// from several goroutines: only the first call closes FD (so a reused
// descriptor number is never closed by mistake); later calls return an
// error wrapping net.ErrClosed.
func (l *Listener) Close() error {
	if l.closed.Load() {
		return fmt.Errorf("close listener %v: %w", l.Addr, net.ErrClosed)
	}
	if l.group == nil {
		return l.closeLocked()
	}
	l.group.mu.Lock()
	defer l.group.mu.Unlock()
	return l.closeLocked()
}

// closeLocked closes l and takes it out of its group's order, as the
// kernel does; the caller holds l.group.mu if l has a group.
func (l *Listener) closeLocked() error {
	if l.closed.Swap(true) {
		return fmt.Errorf("close listener %v: %w", l.Addr, net.ErrClosed)
	}
	if l.group != nil {
		l.group.leave(l)
	}
	return closeImpl(l.FD)
}

// NetListener returns a net.Listener over a duplicate of l's descriptor,
// for the net/http engine. The result owns its own descriptor: l can (and
// should) be closed independently. Like every net.Listener from the
// standard library, it sets TCP_NODELAY on the connections it accepts.
func (l *Listener) NetListener() (net.Listener, error) {
	if l.closed.Load() {
		return nil, fmt.Errorf("socket: listener %v: %w", l.Addr, net.ErrClosed)
	}
	return netListenerImpl(l)
}

// Effective holds listener settings as read back from the kernel.
type Effective struct {
	// SendBuffer and RecvBuffer are SO_SNDBUF and SO_RCVBUF in bytes as
	// getsockopt reports them: twice the request, capped at twice
	// net.core.wmem_max / rmem_max.
	SendBuffer, RecvBuffer int
	// Backlog is the accept queue length the kernel applied, in
	// connections: the request capped at somaxconn (read with TCP_INFO).
	Backlog int
	// Somaxconn is net.core.somaxconn; 0 if /proc/sys/net/core/somaxconn
	// does not exist (procfs not mounted).
	Somaxconn int
	// DualStack reports whether the listener is an IPv6 socket that also
	// accepts IPv4 connections (IPV6_V6ONLY off).
	DualStack bool
}

// String formats e for one log line.
func (e Effective) String() string {
	somax := "unknown"
	if e.Somaxconn > 0 {
		somax = fmt.Sprint(e.Somaxconn)
	}
	return fmt.Sprintf("sndbuf=%dKiB rcvbuf=%dKiB backlog=%d somaxconn=%s dual-stack=%v",
		e.SendBuffer>>10, e.RecvBuffer>>10, e.Backlog, somax, e.DualStack)
}

// ListenGroup opens n listeners on one address and port with SO_REUSEPORT,
// so that the kernel spreads incoming connections over them.
//
// It first makes sure nobody else holds the port: SO_REUSEPORT would let
// any process of the same user join the group and silently take part of
// its connections (for a cache: two diverging copies of the data). So it
// probe-binds the address without SO_REUSEPORT; if the port is taken, the
// error satisfies errors.Is(err, unix.EADDRINUSE) (syscall.EADDRINUSE).
// Two processes starting at the same instant can still both pass the
// probe; the check is against a server already running.
//
// With Config.Port 0 the probe's kernel-chosen port is used by all n
// listeners. On error every descriptor opened so far is closed.
//
// ListenGroup returns OpenGroup's listeners, for callers that never steer
// or reopen them.
func ListenGroup(cfg Config, n int) ([]*Listener, error) {
	g, err := OpenGroup(cfg, n)
	if err != nil {
		return nil, err
	}
	return g.Listeners, nil
}

// OpenGroup opens n listeners as ListenGroup does and returns them as a
// Group, which can steer connections to them (Steer) and reopen one
// (Reopen).
func OpenGroup(cfg Config, n int) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("socket: listen group of %d listeners, want at least 1", n)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	addr, err := parseHost(cfg.Host)
	if err != nil {
		return nil, err
	}
	return listenGroupImpl(cfg.withDefaults(), addr, n)
}
