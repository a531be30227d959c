package seccomptest

import (
	"testing"

	"golang.org/x/sys/unix"
)

// run interprets the classic BPF subset filter uses for a call number and
// returns the verdict.
func run(t *testing.T, prog []unix.SockFilter, nr uint32) uint32 {
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if ins.K != 0 {
				t.Fatalf("load of offset %d, want 0 (the call number)", ins.K)
			}
			acc = nr
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
