package soak

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoakClientTimeout checks that a soakClient gives up on a server
// that accepts a request and never answers, over both protocols, rather
// than wait for go test's timeout (its timeout is shortened here).
func TestSoakClientTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	l := &soakLoad{srv: &soakServer{addr: ln.Addr().String()}}
	for _, proto := range []string{"h1", "h2c"} {
		c := newSoakClient(proto)
		if c.Timeout <= 0 || c.Timeout >= 10*time.Minute {
			t.Fatalf("%s: client timeout %v, want one below go test's 10 minutes", proto, c.Timeout)
		}
		c.Timeout = 100 * time.Millisecond
		_, err := l.do(c, "GET", "/get/k", nil, nil)
		if err == nil || !strings.Contains(err.Error(), "Timeout") {
			t.Errorf("%s: GET from a silent server: %v, want a timeout", proto, err)
		}
		c.CloseIdleConnections()
	}
}
