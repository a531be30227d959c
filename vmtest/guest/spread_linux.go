package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/corekv/corekv/shard"
)

// spreadKey is stored before a spread and read over every connection of
// it, so every shard must see the one store.
const spreadKey = "/vmtest-spread"

// spreadConn is one open connection of a spread: raw HTTP/1.1 (h1Conn) or
// h2c with prior knowledge (h2Conn).
type spreadConn interface {
	get(path string) (int, []byte, error)
	Close() error
}

// checkSpread stores spreadKey, then opens 16 connections per shard at
// once speaking protocol major proto, from threads pinned to each of cpus
// in turn (every online CPU: corekv --pin-cores steers each connection to
// the shard of the CPU it comes from), reads the key over each and keeps
// them open. /stats must then show that every shard got some of them. The
// store and both /stats requests go over one HTTP/1.1 connection opened
// first, so they add no accept of their own.
func checkSpread(addr string, proto int, cpus []int) (string, error) {
	ctl, err := dialH1(addr)
	if err != nil {
		return "", err
	}
	defer ctl.Close()
	value := fmt.Sprintf("stored before the h%d spread", proto)
	if code, body, err := ctl.do(http.MethodPost, "/store"+spreadKey, value); err != nil || code != 200 {
		return "", fmt.Errorf("POST /store%s: %d %q %v", spreadKey, code, body, err)
	}
	before, err := statsOver(ctl)
	if err != nil {
		return "", err
	}
	n := 16 * len(before.Shards)
	conns, err := openSpread(addr, proto, n, value, cpus)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		return "", err
	}
	after, err := statsOver(ctl)
	if err != nil {
		return "", err
	}
	return spreadReport(before, after, n)
}

// openSpread opens n connections speaking proto, connection i from a
// thread pinned to cpus[i%len(cpus)] (from the calling thread if cpus is
// empty), and reads spreadKey over each; it returns the connections
// opened, also on error.
func openSpread(addr string, proto, n int, value string, cpus []int) ([]spreadConn, error) {
	var conns []spreadConn
	for i := range n {
		var c spreadConn
		dial := func() (err error) {
			if proto == 2 {
				c, err = dialH2(addr)
			} else {
				c, err = dialH1(addr)
			}
			return err
		}
		var err error
		if len(cpus) > 0 {
			err = onCPU(cpus[i%len(cpus)], dial)
		} else {
			err = dial()
		}
		if err != nil {
			return conns, fmt.Errorf("dial h%d conn %d: %w", proto, i, err)
		}
		conns = append(conns, c)
		code, body, err := c.get("/get" + spreadKey)
		if err != nil || code != 200 || string(body) != value {
			return conns, fmt.Errorf("h%d conn %d: GET /get%s = %d %q %v, want 200 %q", proto, i, spreadKey, code, body, err, value)
		}
	}
	return conns, nil
}

func statsOver(c *h1Conn) (*shard.Stats, error) {
	code, body, err := c.get("/stats")
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("GET /stats: status %d", code)
	}
	return decodeStats(body)
}

// spreadReport checks that every shard accepted some of the n connections
// and that they are all still open.
func spreadReport(before, after *shard.Stats, n int) (string, error) {
	if len(after.Shards) != len(before.Shards) {
		return "", fmt.Errorf("shard count changed from %d to %d", len(before.Shards), len(after.Shards))
	}
	var errs []error
	var detail []string
	var accepted uint64
	var open int64
	for i, sh := range after.Shards {
		d := sh.Accepted - before.Shards[i].Accepted
		accepted += d
		open += sh.Open
		detail = append(detail, fmt.Sprintf("%d:+%d", i, d))
		if d == 0 {
			errs = append(errs, fmt.Errorf("shard %d (cpu %d) accepted none of %d connections", i, sh.CPU, n))
		}
	}
	if accepted != uint64(n) || open < int64(n)+1 {
		errs = append(errs, fmt.Errorf("accepted %d and open %d, want %d and at least %d", accepted, open, n, n+1))
	}
	return fmt.Sprintf("conns=%d accepted %s", n, strings.Join(detail, " ")), errors.Join(errs...)
}
