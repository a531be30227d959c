//go:build !linux

package affinity

import (
	"errors"
	"fmt"
	"runtime"
)

// unsupported says that CPU affinity is Linux-only here.
func unsupported() error {
	return fmt.Errorf("affinity: CPU affinity on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func pinImpl([]int) error { return unsupported() }

func allowedImpl() ([]int, error) { return nil, unsupported() }

func currentImpl() ([]int, error) { return nil, unsupported() }

func confineImpl([]int) error { return unsupported() }

func threadCPUsAllowedImpl(pid, tid int) ([]int, error) { return nil, unsupported() }
