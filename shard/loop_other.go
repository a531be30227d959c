//go:build !linux

package shard

import (
	"context"
	"errors"
	"fmt"
)

const defaultEngine = EngineStd

func checkEngine(engine string) error {
	if engine == EngineLoop {
		return fmt.Errorf("shard: the loop engine needs Linux epoll: %w", errors.ErrUnsupported)
	}
	return nil
}

func (s *shard) serveLoop(context.Context) error {
	return checkEngine(EngineLoop)
}
