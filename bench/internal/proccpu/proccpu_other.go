//go:build !linux

package proccpu

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

func processImpl(pid int) (time.Duration, error) {
	return 0, fmt.Errorf("read CPU time of process %d on %s: %w", pid, runtime.GOOS, errors.ErrUnsupported)
}

func threadImpl(pid, tid int) (time.Duration, error) {
	return 0, fmt.Errorf("read CPU time of thread %d on %s: %w", tid, runtime.GOOS, errors.ErrUnsupported)
}
