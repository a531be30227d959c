//go:build !linux

package peers

import (
	"errors"
	"fmt"
	"runtime"
)

func readMemoryImpl(pid int) (Memory, error) {
	return Memory{}, fmt.Errorf("peers: resident memory of process %d on %s: %w", pid, runtime.GOOS, errors.ErrUnsupported)
}
