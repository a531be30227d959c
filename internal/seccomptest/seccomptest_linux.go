package seccomptest

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// refused are the calls the filter fails.
var refused = [...]uint32{unix.SYS_MBIND, unix.SYS_GET_MEMPOLICY, unix.SYS_SET_MEMPOLICY, unix.SYS_MOVE_PAGES}

// filter returns the BPF program: load the call number, jump to the EPERM
// return on each refused call, else allow.
func filter() []unix.SockFilter {
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	prog := []unix.SockFilter{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}} // seccomp_data.nr
	for i, nr := range refused {
		// Past the remaining tests and the allow.
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: nr, Jt: uint8(len(refused) - i)})
	}
	return append(prog, ret(unix.SECCOMP_RET_ALLOW), ret(unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)))
}

func refuseImpl() error {
	return install(filter())
}

// Offsets in struct seccomp_data of the call number and of the low 32
// bits of the call's second and third arguments (little-endian).
const (
	offNr   = 0
	offArg1 = 16 + 8*1
	offArg2 = 16 + 8*2
)

// steeringFilter returns the BPF program that fails setsockopt(SOL_SOCKET,
// SO_ATTACH_REUSEPORT_CBPF) with EPERM and allows everything else.
func steeringFilter() []unix.SockFilter {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	jne := func(k uint32, skip uint8) unix.SockFilter { // to the allow, skip ahead
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jf: skip}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	return []unix.SockFilter{
		ld(offNr), jne(unix.SYS_SETSOCKOPT, 5),
		ld(offArg1), jne(unix.SOL_SOCKET, 3),
		ld(offArg2), jne(unix.SO_ATTACH_REUSEPORT_CBPF, 1),
		ret(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)),
		ret(unix.SECCOMP_RET_ALLOW),
	}
}

func refuseSteeringImpl() error {
	return install(steeringFilter())
}

// install sets no_new_privs and installs prog on every thread.
func install(prog []unix.SockFilter) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// TSYNC: every thread of the process, not only the caller's.
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return os.NewSyscallError("seccomp", e)
	}
	return nil
}
