package numa

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nodeMask is the kernel's nodemask_t for MaxNode nodes: bit n of word
// n/64 stands for node n.
type nodeMask [MaxNode / 64]uint64

// maskArg is the maxnode argument for a nodeMask. The kernel counts one
// bit fewer than it is told (mm/mempolicy.c get_nodes decrements
// maxnode before reading), so, as libnuma does, pass the bit count plus
// one.
const maskArg = MaxNode + 1

// whereBatch is the number of pages one move_pages call queries.
const whereBatch = 1024

func maskOf(nodes []int) *nodeMask {
	var m nodeMask
	for _, n := range nodes {
		m[n/64] |= 1 << (n % 64)
	}
	return &m
}

func (m *nodeMask) nodes() []int {
	var out []int
	for w, word := range m {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, w*64+b)
			word &^= 1 << b
		}
	}
	return out
}

// sysErr wraps the errno of a memory policy call. EPERM (a seccomp filter,
// as in Docker's default profile) and ENOSYS (a kernel without NUMA or
// page migration) mean the kernel will not place memory here: those
// errors also wrap errors.ErrUnsupported.
func sysErr(name string, e unix.Errno) error {
	err := os.NewSyscallError(name, e)
	if e == unix.EPERM || e == unix.ENOSYS {
		return fmt.Errorf("numa: %w: %w", err, errors.ErrUnsupported)
	}
	return fmt.Errorf("numa: %w", err)
}

// memsAllowed returns the nodes the process's cpuset lets it allocate on.
func memsAllowed() ([]int, error) {
	mask := maskOf(nil)
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, 0, uintptr(unsafe.Pointer(mask)), maskArg,
		0, unix.MPOL_F_MEMS_ALLOWED, 0)
	if e != 0 {
		return nil, sysErr("get_mempolicy", e)
	}
	return mask.nodes(), nil
}

// newImpl probes the policy once on a page of its own, so that a kernel
// that refuses it fails New rather than the first Map.
func newImpl(m *Mapper) error {
	if m.policy == Off {
		return nil
	}
	b, err := m.mapImpl(os.Getpagesize(), m.mem[0])
	if err != nil {
		return err
	}
	return unix.Munmap(b)
}

// mapImpl maps size bytes and binds them to the policy before returning:
// nothing has touched them yet, so no page has been placed. home is the
// node Local prefers, or -1.
func (m *Mapper) mapImpl(size, home int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("numa: map %d bytes: %w", size, os.NewSyscallError("mmap", err))
	}
	if err := m.bind(b, home); err != nil {
		unix.Munmap(b)
		return nil, err
	}
	return b, nil
}

func unmapImpl(b []byte) error {
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("numa: %w", os.NewSyscallError("munmap", err))
	}
	return nil
}

func (m *Mapper) bind(b []byte, home int) error {
	switch {
	case m.policy == Interleave:
		// Interleaving goes by page, or by 2 MiB huge page under THP,
		// which would leave a segment of 1 MiB on one node: keep base
		// pages. EINVAL means a kernel without THP.
		if err := unix.Madvise(b, unix.MADV_NOHUGEPAGE); err != nil && err != unix.EINVAL {
			return fmt.Errorf("numa: %w", os.NewSyscallError("madvise", err))
		}
		return mbind(b, unix.MPOL_INTERLEAVE, m.mem)
	case m.policy == Local && home >= 0:
		return mbind(b, unix.MPOL_PREFERRED, []int{home})
	}
	return nil
}

// mbind sets the memory policy of the pages of b.
func mbind(b []byte, mode int, nodes []int) error {
	_, _, e := unix.Syscall6(unix.SYS_MBIND, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		uintptr(mode), uintptr(unsafe.Pointer(maskOf(nodes))), maskArg, 0)
	if e != 0 {
		return sysErr("mbind", e)
	}
	return nil
}

// whereImpl queries every stride-th page of b, from its first.
func whereImpl(b []byte, stride int) (Placement, error) {
	ps := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0])) &^ (ps - 1)
	end := uintptr(unsafe.Pointer(&b[len(b)-1])) + 1
	n := int((end-start+ps-1)/ps+uintptr(stride)-1) / stride // pages queried
	pl := Placement{Pages: map[int]int{}, PageSize: int(ps)}
	pages := make([]uintptr, min(n, whereBatch))
	status := make([]int32, len(pages))
	for done := 0; done < n; done += whereBatch {
		k := min(whereBatch, n-done)
		for i := range k {
			pages[i] = start + uintptr((done+i)*stride)*ps
		}
		// nodes == NULL: query where each page is, move nothing.
		_, _, e := unix.Syscall6(unix.SYS_MOVE_PAGES, 0, uintptr(k), uintptr(unsafe.Pointer(&pages[0])),
			0, uintptr(unsafe.Pointer(&status[0])), 0)
		if e != 0 {
			return Placement{}, sysErr("move_pages", e)
		}
		if err := pl.add(status[:k], pages); err != nil {
			return Placement{}, err
		}
	}
	return pl, nil
}

// add counts the statuses move_pages wrote for pages.
func (pl *Placement) add(status []int32, pages []uintptr) error {
	for i, s := range status {
		switch {
		case s >= 0:
			pl.Pages[int(s)]++
		case s == -int32(unix.ENOENT), s == -int32(unix.EFAULT):
			// ENOENT: not present; EFAULT: the zero page.
			pl.Absent++
		default:
			return fmt.Errorf("numa: move_pages: page %#x: %w", pages[i], unix.Errno(-s))
		}
	}
	return nil
}

func nodeOfImpl(b []byte) (int, error) {
	var node int32
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&node)), 0, 0,
		uintptr(unsafe.Pointer(&b[0])), unix.MPOL_F_NODE|unix.MPOL_F_ADDR, 0)
	if e != 0 {
		return 0, sysErr("get_mempolicy", e)
	}
	return int(node), nil
}

func policyOfImpl(b []byte) (Policy, []int, error) {
	var mode int32
	mask := maskOf(nil)
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), uintptr(unsafe.Pointer(mask)),
		maskArg, uintptr(unsafe.Pointer(&b[0])), unix.MPOL_F_ADDR, 0)
	if e != 0 {
		return Off, nil, sysErr("get_mempolicy", e)
	}
	switch mode &^ unix.MPOL_MODE_FLAGS {
	case unix.MPOL_DEFAULT:
		return Off, nil, nil
	case unix.MPOL_INTERLEAVE:
		return Interleave, mask.nodes(), nil
	case unix.MPOL_PREFERRED:
		return Local, mask.nodes(), nil
	}
	return Off, nil, fmt.Errorf("numa: get_mempolicy: mode %d is none of corekv's policies", mode)
}
