//go:build !linux

package store

import (
	"errors"
	"fmt"
)

// mapAnon allocates segments on the Go heap where corekv does not map
// memory itself: a byte slice holds no pointers, so the collector never
// scans it and the store behaves as on Linux, except that resident memory
// does not shrink when a segment is released and no NUMA policy applies.
// node is ignored.
func mapAnon(size, node int) ([]byte, error) { return make([]byte, size), nil }

// release cannot give heap memory back to the system.
func release(b []byte) error {
	return fmt.Errorf("store: release %d bytes: %w", len(b), errors.ErrUnsupported)
}
