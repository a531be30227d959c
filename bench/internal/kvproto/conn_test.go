package kvproto

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeMemcached serves one connection of memcached's text protocol from a
// map, writing replies a few bytes at a time, so that replies arrive
// split across reads.
func fakeMemcached(t *testing.T, maxItems int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serveMemcached(c, maxItems)
	}()
	return ln.Addr().String()
}

func serveMemcached(c net.Conn, maxItems int) {
	items := map[string][]byte{}
	r := bufio.NewReader(c)
	w := bufio.NewWriterSize(c, 7)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "get":
			if v, ok := items[f[1]]; ok {
				fmt.Fprintf(w, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", f[1], len(v), v)
			} else {
				w.WriteString("END\r\n")
			}
		case len(f) == 5 && f[0] == "set":
			n, _ := strconv.Atoi(f[4])
			v := make([]byte, n+2)
			if _, err := io.ReadFull(r, v); err != nil {
				return
			}
			if len(items) >= maxItems {
				w.WriteString("SERVER_ERROR out of memory storing object\r\n")
			} else {
				items[f[1]] = v[:n]
				w.WriteString("STORED\r\n")
			}
		default:
			w.WriteString("ERROR\r\n")
		}
		if r.Buffered() == 0 {
			w.Flush()
		}
	}
}

func TestConnBatches(t *testing.T) {
	addr := fakeMemcached(t, 1000)
	c, err := Dial(context.Background(), addr, Memcached{}, Config{ReadBuffer: 16, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	val := bytes.Repeat([]byte("v"), 4000) // replies larger than the read buffer
	for i := range 5 {
		c.Set([]byte("k"+strconv.Itoa(i)), val[:1000*i])
	}
	c.Get([]byte("k3"))
	c.Get([]byte("nope"))
	if c.Pending() != 7 {
		t.Fatalf("Pending() = %d, want 7", c.Pending())
	}
	var got []string
	err = c.Flush(func(i int, op Op, r Reply) error {
		got = append(got, fmt.Sprintf("%d %v %v %d", i, op, r.Outcome, len(r.Value)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0 SET stored 0", "1 SET stored 0", "2 SET stored 0", "3 SET stored 0", "4 SET stored 0", "5 GET hit 3000", "6 GET miss 0"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("replies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Pending() != 0 {
		t.Errorf("Pending() after Flush = %d, want 0", c.Pending())
	}
}

// TestConnLargeBatch sends a batch far larger than the sockets' buffers:
// Flush must read while it writes, or both ends stall.
func TestConnLargeBatch(t *testing.T) {
	const n = 20_000
	addr := fakeMemcached(t, n/2)
	c, err := Dial(context.Background(), addr, Memcached{}, Config{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	val := bytes.Repeat([]byte("x"), 1000)
	for i := range n {
		c.Set([]byte("k"+strconv.Itoa(i)), val)
	}
	counts := map[Outcome]int{}
	err = c.Flush(func(i int, op Op, r Reply) error {
		counts[r.Outcome]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts[Stored] != n/2 || counts[NotStored] != n/2 {
		t.Errorf("outcomes %v, want %d stored and %d not stored", counts, n/2, n/2)
	}
}

func TestConnErrorStops(t *testing.T) {
	addr := fakeMemcached(t, 10)
	c, err := Dial(context.Background(), addr, Memcached{}, Config{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Set([]byte("a"), []byte("1"))
	c.w = append(c.w, "bogus\r\n"...) // the fake answers ERROR
	c.ops = append(c.ops, Set)
	c.Get([]byte("a"))
	calls := 0
	err = c.Flush(func(int, Op, Reply) error { calls++; return nil })
	want := `kvproto: memcached reply to SET: unexpected line in "ERROR"`
	if err == nil || err.Error() != want {
		t.Fatalf("Flush error = %v, want %s", err, want)
	}
	if calls != 1 {
		t.Errorf("callback called %d times, want 1 (before the bad reply)", calls)
	}
}
