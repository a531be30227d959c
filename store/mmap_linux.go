package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// mapAnon maps size bytes of anonymous memory with no NUMA policy: the
// default Config.Map. node is ignored.
func mapAnon(size, node int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("store: map %d bytes: %w", size, err)
	}
	return b, nil
}

// release gives a segment's pages back to the kernel and keeps the
// mapping (and any memory policy on it); the next touch faults in zeroed
// pages.
func release(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
		return fmt.Errorf("store: release %d bytes: %w", len(b), err)
	}
	return nil
}
