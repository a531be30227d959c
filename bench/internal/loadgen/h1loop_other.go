//go:build !linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/corekv/corekv/bench/internal/workload"
)

// The HTTP/1.1 engine is an epoll loop; elsewhere only h2c is available.
func runH1(context.Context, Config, *workload.Workload, Step, uint64) (*Result, error) {
	return nil, fmt.Errorf("HTTP/1.1 load on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func preloadH1(context.Context, Config, *workload.Workload, time.Time) ([]*recorder, error) {
	return nil, fmt.Errorf("HTTP/1.1 load on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
