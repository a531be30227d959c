//go:build !linux

package main

import (
	"errors"
	"fmt"
)

// availableMemory is not known on this OS.
func availableMemory() (int64, error) {
	return 0, fmt.Errorf("available memory: %w", errors.ErrUnsupported)
}
