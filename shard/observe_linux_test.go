package shard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers for the tests of connections' lives: clients, /stats, and CPU use
// read from /proc. They wait for conditions with generous deadlines, only
// so that a broken server fails the test instead of hanging it; no test
// asserts how long anything takes.
const patience = 10 * time.Second

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// openConns asks /stats, on a connection of its own, how many connections
// the group has open besides that one.
func openConns(t *testing.T, addr string) int64 {
	t.Helper()
	resp, body := exchange(t, addr, "GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/stats: %d %q: %v", resp.StatusCode, body, err)
	}
	var open int64
	for _, s := range st.Shards {
		open += s.Open
	}
	return open - 1
}

// waitOpen waits until /stats shows want open connections: the server has
// closed every connection the test gave up on, and leaked none.
func waitOpen(t *testing.T, addr string, want int64) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		got := openConns(t, addr)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/stats shows %d open connections, want %d", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readResponse reads one response and its body.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// expectClosed reads until the server closes c, discarding what comes
// first, and fails if it does not.
func expectClosed(t *testing.T, c net.Conn, r io.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(patience))
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, body := exchange(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	return resp.StatusCode, body
}

// loopTID waits for the single shard's event-loop thread to be known.
func loopTID(t *testing.T, ts *testServer) int {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		if tid := ts.g.Stats().Shards[0].TID; tid != 0 {
			return tid
		}
		if time.Now().After(deadline) {
			t.Fatal("the event loop never started")
		}
		time.Sleep(time.Millisecond)
	}
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/*/stat on every
// architecture Go runs Linux on.
const clockTicks = 100

// cpuTicks returns the user plus system CPU time of a process or thread
// from its /proc stat file.
func cpuTicks(t *testing.T, statPath string) int {
	t.Helper()
	b, err := os.ReadFile(statPath)
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.Atoi(f[14-3])
	stime, err2 := strconv.Atoi(f[15-3])
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("parse %s: %v", statPath, err)
	}
	return utime + stime
}

// expectNoSpin measures the CPU time that statPath's process or thread
// uses over window, in which it has nothing to do, and fails if it is more
// than maxShare of the window. It is a spin detector, not a performance
// bound: a loop blocked in epoll uses next to nothing, one that spins all
// it can get, which on a machine shared with other tests can be a small
// share of a CPU (so the bar is low, though far above the blocked loop's).
func expectNoSpin(t *testing.T, statPath string, window time.Duration, maxShare float64, what string) {
	t.Helper()
	before := cpuTicks(t, statPath)
	start := time.Now()
	time.Sleep(window)
	used := float64(cpuTicks(t, statPath)-before) / clockTicks
	if share := used / time.Since(start).Seconds(); share > maxShare {
		t.Errorf("%s: used %.0f%% of a CPU with nothing to do, want at most %.0f%% (a loop blocked in epoll)", what, 100*share, 100*maxShare)
	}
}

// An idle event-loop thread uses at most a fifth of a CPU over half a
// second: 10 clock ticks, where a blocked loop uses 0 or 1.
const (
	loopSpinWindow = 500 * time.Millisecond
	loopSpinShare  = 0.2
)

func loopStat(t *testing.T, ts *testServer) string {
	return fmt.Sprintf("/proc/self/task/%d/stat", loopTID(t, ts))
}
