//go:build !linux

package main

import (
	"errors"
	"fmt"
	"runtime"
)

func runInit() error {
	return fmt.Errorf("guest init on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func taskset([]string) error {
	return fmt.Errorf("taskset on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func nompol([]string) error {
	return fmt.Errorf("nompol on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
