package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/corekv/corekv/admin"
	"github.com/corekv/corekv/metrics"
	"github.com/corekv/corekv/shard"
)

// defaultAdminAddr is where the admin endpoints listen by default: on
// loopback only, since pprof and the metrics are for the machine's own
// operators (and the Prometheus or agent scraping it), and beside the
// public port rather than in 9100-9999, the range Prometheus allocates
// to exporters, which is fully taken (9090 is Prometheus's own, 9180
// ScyllaDB's).
const defaultAdminAddr = "127.0.0.1:3001"

// validAdminAddr checks --admin-addr: empty, or host:port.
func validAdminAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("--admin-addr %q: want host:port or empty: %w", addr, err)
	}
	return nil
}

// listenAdmin opens the admin listener, before the shards serve, so that
// an address in use fails the start. It returns nil for an empty address.
func listenAdmin(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (--admin-addr): %w", err)
	}
	return ln, nil
}

// serveAdmin serves the admin endpoints for g on ln, if any, until ctx
// ends.
func serveAdmin(ctx context.Context, ln net.Listener, g *shard.Group, logger *log.Logger) {
	if ln == nil {
		return
	}
	logger.Printf("admin listening on %v", ln.Addr())
	rt := metrics.NewRuntime()
	err := admin.Serve(ctx, ln, admin.Config{
		Metrics: func(w io.Writer) error {
			if err := metrics.WriteText(w, g.Scrape()); err != nil {
				return err
			}
			return rt.WriteText(w)
		},
		ContentType: metrics.ContentType,
		Stats:       g.WriteStats,
		Ready:       g.Ready,
		ErrorLog:    logger,
	})
	if err != nil {
		logger.Printf("admin listener: %v", err)
	}
}
