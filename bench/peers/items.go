package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// items asks server r how many keys it holds, in its own terms:
// memcached's curr_items (from stats), Redis's DBSIZE, corekv's "keys"
// (from GET /stats).
func (r *running) items(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if r.name == corekv {
		return corekvItems(ctx, r.addr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	br := bufio.NewReader(c)
	if r.name == memcached {
		return memcachedItems(c, br)
	}
	return redisItems(c, br)
}

// memcachedItems sends stats and reads curr_items out of the STAT lines.
func memcachedItems(c net.Conn, br *bufio.Reader) (int64, error) {
	if _, err := c.Write([]byte("stats\r\n")); err != nil {
		return 0, err
	}
	n := int64(-1)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("memcached stats: %w", err)
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && f[0] == "END":
			if n < 0 {
				return 0, fmt.Errorf("memcached stats: no curr_items")
			}
			return n, nil
		case len(f) == 3 && f[0] == "STAT" && f[1] == "curr_items":
			if n, err = strconv.ParseInt(f[2], 10, 64); err != nil {
				return 0, fmt.Errorf("memcached stats: curr_items %q: %w", f[2], err)
			}
		}
	}
}

// redisItems sends DBSIZE and reads its integer reply.
func redisItems(c net.Conn, br *bufio.Reader) (int64, error) {
	if _, err := c.Write([]byte("*1\r\n$6\r\nDBSIZE\r\n")); err != nil {
		return 0, err
	}
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("redis DBSIZE: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, ":") {
		return 0, fmt.Errorf("redis DBSIZE: reply %q", line)
	}
	return strconv.ParseInt(line[1:], 10, 64)
}

// corekvItems reads "keys" from GET /stats.
func corekvItems(ctx context.Context, addr string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/stats", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /stats: status %d", resp.StatusCode)
	}
	var st struct {
		Keys *int64 `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("GET /stats: %w", err)
	}
	if st.Keys == nil {
		return 0, fmt.Errorf("GET /stats: no \"keys\"")
	}
	return *st.Keys, nil
}
