//go:build !linux

package memlimit

import (
	"errors"
	"fmt"
)

func availableImpl(procRoot, cgroupRoot string) (int64, error) {
	return 0, fmt.Errorf("available memory: %w", errors.ErrUnsupported)
}
