package shard

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// iovMax is IOV_MAX, the most iovecs one writev(2) takes on Linux.
const iovMax = 1024

// writev writes the loop's queued output segments to fd with as few
// writev(2) calls as IOV_MAX allows, and returns the bytes written.
func (l *loop) writev(fd int) (int, unix.Errno) {
	l.iov = l.iov[:0]
	l.segs = l.out.Segments(l.segs[:0])
	for _, p := range l.segs {
		v := unix.Iovec{Base: &p[0]}
		v.SetLen(len(p))
		l.iov = append(l.iov, v)
	}
	total := 0
	for iov := l.iov; len(iov) > 0; {
		k := min(len(iov), iovMax)
		r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
		if e != 0 {
			return total, e
		}
		total += int(r)
		want := 0
		for _, v := range iov[:k] {
			want += int(v.Len)
		}
		if int(r) < want {
			return total, 0
		}
		iov = iov[k:]
	}
	return total, 0
}

// rawRead and rawWrite are read(2) and write(2) on non-blocking sockets.
// They never block, so they skip the runtime's syscall bookkeeping.
func rawRead(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func rawWrite(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}
