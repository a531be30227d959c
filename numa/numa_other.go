//go:build !linux

package numa

import (
	"errors"
	"fmt"
	"runtime"
)

// unsupported says that memory policies are Linux-only here.
func unsupported() error {
	return fmt.Errorf("numa: memory policies on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func memsAllowed() ([]int, error) { return nil, unsupported() }

func newImpl(*Mapper) error { return unsupported() }

func (m *Mapper) mapImpl(size, home int) ([]byte, error) { return nil, unsupported() }

func unmapImpl([]byte) error { return unsupported() }

func whereImpl([]byte, int) (Placement, error) { return Placement{}, unsupported() }

func nodeOfImpl([]byte) (int, error) { return 0, unsupported() }

func policyOfImpl([]byte) (Policy, []int, error) { return Off, nil, unsupported() }
