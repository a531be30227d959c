//go:build !linux

package socket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

func listenGroupImpl(cfg Config, addr netip.Addr, n int) ([]*Listener, error) {
	return nil, fmt.Errorf("socket: listen group: %w", errors.ErrUnsupported)
}

func netListenerImpl(l *Listener) (net.Listener, error) {
	return nil, fmt.Errorf("socket: net listener: %w", errors.ErrUnsupported)
}

func closeImpl(fd int) error {
	return fmt.Errorf("socket: close: %w", errors.ErrUnsupported)
}
