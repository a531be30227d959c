//go:build !linux

package seccomptest

import (
	"errors"
	"fmt"
	"runtime"
)

func refuseImpl() error { return unsupported() }

func refuseSteeringImpl() error { return unsupported() }

func unsupported() error {
	return fmt.Errorf("seccomptest: seccomp filters on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
