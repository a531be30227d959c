package seccomptest

import (
	"testing"

	"golang.org/x/sys/unix"
)

// run interprets the classic BPF subset filter uses for a call number and
// returns the verdict; the program may load only the call number.
func run(t *testing.T, prog []unix.SockFilter, nr uint32) uint32 {
	t.Helper()
	return interpret(t, prog, map[uint32]uint32{offNr: nr})
}

func TestFilter(t *testing.T) {
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	tests := []struct {
		name string
		nr   uint32
		want uint32
	}{
		{"mbind", unix.SYS_MBIND, eperm},
		{"get_mempolicy", unix.SYS_GET_MEMPOLICY, eperm},
		{"set_mempolicy", unix.SYS_SET_MEMPOLICY, eperm},
		{"move_pages", unix.SYS_MOVE_PAGES, eperm},
		{"mmap", unix.SYS_MMAP, unix.SECCOMP_RET_ALLOW},
		{"getpid", unix.SYS_GETPID, unix.SECCOMP_RET_ALLOW},
	}
	for _, tc := range tests {
		if got := run(t, filter(), tc.nr); got != tc.want {
			t.Errorf("filter(%s) = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// runArgs interprets prog for a call number and its second and third
// arguments.
func runArgs(t *testing.T, prog []unix.SockFilter, nr, arg1, arg2 uint32) uint32 {
	t.Helper()
	return interpret(t, prog, map[uint32]uint32{offNr: nr, offArg1: arg1, offArg2: arg2})
}

// interpret runs prog, the classic BPF subset the filters use, over data
// (the words of struct seccomp_data by offset) and returns the verdict. A
// load of an offset not in data fails t.
func interpret(t *testing.T, prog []unix.SockFilter, data map[uint32]uint32) uint32 {
	t.Helper()
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			v, ok := data[ins.K]
			if !ok {
				t.Fatalf("load of offset %d", ins.K)
			}
			acc = v
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if acc == ins.K {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return ins.K
		default:
			t.Fatalf("instruction %d: code %#x", pc, ins.Code)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

func TestSteeringFilter(t *testing.T) {
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	for _, tc := range []struct {
		name             string
		nr, level, optnm uint32
		want             uint32
	}{
		{"attach reuseport cbpf", unix.SYS_SETSOCKOPT, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, eperm},
		{"SO_REUSEPORT", unix.SYS_SETSOCKOPT, unix.SOL_SOCKET, unix.SO_REUSEPORT, unix.SECCOMP_RET_ALLOW},
		{"same number at another level", unix.SYS_SETSOCKOPT, unix.IPPROTO_TCP, unix.SO_ATTACH_REUSEPORT_CBPF, unix.SECCOMP_RET_ALLOW},
		{"getsockopt", unix.SYS_GETSOCKOPT, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, unix.SECCOMP_RET_ALLOW},
	} {
		if got := runArgs(t, steeringFilter(), tc.nr, tc.level, tc.optnm); got != tc.want {
			t.Errorf("steeringFilter(%s) = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}
