package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// counters are a server's own account at the end of a run.
type counters struct {
	items     int64 // keys held: memcached curr_items, Redis DBSIZE, corekv /stats keys
	evictions int64 // memcached evictions, Redis evicted_keys, corekv /stats store.evictions
	// hasEvictions reports whether the server counts evictions (corekv
	// before its evicting store does not).
	hasEvictions bool
}

// counters asks server r for its counters.
func (r *running) counters(ctx context.Context) (counters, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var req []byte
	var parse func([]byte) (counters, error)
	switch r.name {
	case corekv:
		return corekvCounters(ctx, r.addr)
	case memcached:
		req, parse = []byte("stats\r\n"), parseMemcachedStats
	default:
		req, parse = []byte("*2\r\n$4\r\nINFO\r\n$8\r\nkeyspace\r\n*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n"), parseRedisInfo
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return counters{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := c.Write(req); err != nil {
		return counters{}, err
	}
	b, err := readReplies(bufio.NewReader(c), r.name)
	if err != nil {
		return counters{}, fmt.Errorf("%s counters: %w", r.name, err)
	}
	return parse(b)
}

// readReplies reads memcached's stats up to END, or Redis's two INFO
// bulk strings.
func readReplies(br *bufio.Reader, name string) ([]byte, error) {
	var out []byte
	if name == memcached {
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return nil, err
			}
			out = append(out, line...)
			if string(line) == "END\r\n" {
				return out, nil
			}
		}
	}
	for range 2 {
		head, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if !strings.HasPrefix(head, "$") || err != nil || n < 0 {
			return nil, fmt.Errorf("INFO reply %q", head)
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		out = append(out, body[:n]...)
	}
	return out, nil
}

// parseMemcachedStats reads curr_items and evictions out of the STAT
// lines of memcached's stats.
func parseMemcachedStats(b []byte) (counters, error) {
	c := counters{hasEvictions: true}
	found := 0
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" || (f[1] != "curr_items" && f[1] != "evictions") {
			continue
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return counters{}, fmt.Errorf("memcached stats: %s %q: %w", f[1], f[2], err)
		}
		if f[1] == "curr_items" {
			c.items = n
		} else {
			c.evictions = n
		}
		found++
	}
	if found != 2 {
		return counters{}, fmt.Errorf("memcached stats: curr_items or evictions missing")
	}
	return c, nil
}

// parseRedisInfo reads the key count of db0 ("db0:keys=N,expires=…"; no
// db0 line: no keys) and evicted_keys out of INFO keyspace and stats.
func parseRedisInfo(b []byte) (counters, error) {
	c := counters{hasEvictions: true}
	found := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "db0:keys="); ok {
			v, _, _ = strings.Cut(v, ",")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return counters{}, fmt.Errorf("redis INFO: %q: %w", line, err)
			}
			c.items = n
		}
		if v, ok := strings.CutPrefix(line, "evicted_keys:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return counters{}, fmt.Errorf("redis INFO: %q: %w", line, err)
			}
			c.evictions, found = n, true
		}
	}
	if !found {
		return counters{}, fmt.Errorf("redis INFO: evicted_keys missing")
	}
	return c, nil
}

// corekvCounters reads GET /stats.
func corekvCounters(ctx context.Context, addr string) (counters, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/stats", nil)
	if err != nil {
		return counters{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return counters{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return counters{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return counters{}, fmt.Errorf("corekv GET /stats: status %d", resp.StatusCode)
	}
	return parseCorekvStats(b)
}

// parseCorekvStats reads "keys" and, when the store reports it,
// "store"."evictions" out of corekv's /stats.
func parseCorekvStats(b []byte) (counters, error) {
	var st struct {
		Keys  *int64 `json:"keys"`
		Store *struct {
			Evictions *int64 `json:"evictions"`
		} `json:"store"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&st); err != nil {
		return counters{}, fmt.Errorf("corekv /stats: %w", err)
	}
	if st.Keys == nil {
		return counters{}, fmt.Errorf("corekv /stats: no \"keys\"")
	}
	c := counters{items: *st.Keys}
	if st.Store != nil && st.Store.Evictions != nil {
		c.evictions, c.hasEvictions = *st.Store.Evictions, true
	}
	return c, nil
}

// evictionsText returns the evictions, or "-" when the server does not
// count them.
func (c counters) evictionsText() string {
	if !c.hasEvictions {
		return "-"
	}
	return strconv.FormatInt(c.evictions, 10)
}
