package socket

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Accept accepts one connection on the listening descriptor lfd with
// accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and sets TCP_NODELAY on it. The
// peer address sa is a *unix.SockaddrInet4 or *unix.SockaddrInet6.
//
// Accept exists only on Linux. It is made for an event loop that accepts
// until EAGAIN: that outcome allocates nothing and the error is the bare
// unix.Errno (compare it with errors.Is); a success allocates only sa,
// one allocation fewer than unix.Accept4. If TCP_NODELAY cannot be set,
// the connection is closed and the error returned.
func Accept(lfd int) (fd int, sa unix.Sockaddr, err error) {
	var raw unix.RawSockaddrAny
	size := uint32(unix.SizeofSockaddrAny)
	r, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd),
		uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&size)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, nil, errno
	}
	fd = int(r)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, nil, os.NewSyscallError("setsockopt TCP_NODELAY", err)
	}
	return fd, peer(&raw), nil
}

// peer converts the address accept4 wrote; nil for a family other than
// IPv4 and IPv6, which a TCP listener does not produce.
func peer(raw *unix.RawSockaddrAny) unix.Sockaddr {
	switch raw.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(raw))
		return &unix.SockaddrInet4{Port: networkPort(in.Port), Addr: in.Addr}
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(raw))
		return &unix.SockaddrInet6{Port: networkPort(in.Port), ZoneId: in.Scope_id, Addr: in.Addr}
	}
	return nil
}

// networkPort reads a port stored in network byte order.
func networkPort(p uint16) int {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return int(b[0])<<8 | int(b[1])
}
