package http2

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

// serveTCP drives one Conn per accepted connection the way an event loop
// would: read, Feed, write the batch.
func serveTCP(t *testing.T, ln net.Listener, cfg Config) {
	var mu sync.Mutex // Serve's store is shared by the connections' goroutines
	serve := cfg.Serve
	cfg.Serve = func(req *api.Request) api.Result {
		mu.Lock()
		defer mu.Unlock()
		return serve(req)
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			c := NewServer(cfg).NewConn()
			var sink testSink
			buf := make([]byte, 0, 64<<10)
			for !c.Done() {
				n, err := nc.Read(buf[len(buf):cap(buf)])
				if err != nil {
					return
				}
				buf = buf[:len(buf)+n]
				for {
					sink.b = sink.b[:0]
					used := c.Feed(buf, &sink)
					buf = buf[:copy(buf, buf[used:])]
					if _, err := nc.Write(sink.b); err != nil {
						return
					}
					if !c.Busy() && (used == 0 || len(buf) < 9) {
						break
					}
				}
			}
		}()
	}
}

func TestGoTransport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	k := &kv{m: map[string][]byte{}}
	for i := 0; i < 8; i++ {
		k.m[fmt.Sprintf("k%d", i)] = []byte(fmt.Sprintf("value %d", i))
	}
	go serveTCP(t, ln, Config{Serve: k.serve})
	tr := &xhttp2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	base := "http://" + ln.Addr().String()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: both windows run out
	resp, err := client.Post(base+"/store/big", "", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST 1 MiB: %s", resp.Status)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Go(func() {
			path, want := fmt.Sprintf("/get/k%d", i%8), fmt.Sprintf("value %d", i%8)
			if i%8 == 0 {
				path, want = "/get/big", string(big)
			}
			resp, err := client.Get(base + path)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode == 200 && string(got) != want {
				errs <- fmt.Errorf("GET %s: %s, %d bytes, %v", path, resp.Status, len(got), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err = client.Head(base + "/get/big")
	if err != nil || resp.ContentLength != int64(len(big)) {
		t.Fatalf("HEAD: %v, length %d", err, resp.ContentLength)
	}
	req, _ := http.NewRequest("PATCH", base+"/store/x", strings.NewReader("x"))
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Fatalf("PATCH: %v %v", err, resp)
	}
}
