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

// The h2c engine is an epoll loop, as the HTTP/1.1 one.
func runH2(context.Context, Config, *workload.Workload, Step, uint64) (*Result, error) {
	return nil, fmt.Errorf("h2c load on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func preloadH2(context.Context, Config, *workload.Workload, time.Time) ([]*recorder, error) {
	return nil, fmt.Errorf("h2c load on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
