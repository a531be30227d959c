//go:build !linux

package socket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/bpf"
)

func listenGroupImpl(cfg Config, addr netip.Addr, n int) (*Group, error) {
	return nil, fmt.Errorf("socket: listen group: %w", errors.ErrUnsupported)
}

func netListenerImpl(l *Listener) (net.Listener, error) {
	return nil, fmt.Errorf("socket: net listener: %w", errors.ErrUnsupported)
}

func closeImpl(fd int) error {
	return fmt.Errorf("socket: close: %w", errors.ErrUnsupported)
}

func (g *Group) join() (*Listener, error) {
	return nil, fmt.Errorf("socket: listen: %w", errors.ErrUnsupported)
}

func attachImpl(fd int, prog []bpf.RawInstruction) error {
	return fmt.Errorf("socket: attach steering program: %w", errors.ErrUnsupported)
}

func detachImpl(fd int) error {
	return fmt.Errorf("socket: detach steering program: %w", errors.ErrUnsupported)
}
