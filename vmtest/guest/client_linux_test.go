package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/corekv/corekv/shard"
)

// fakeServer is a one-shard stand-in for corekv's API, served over
// HTTP/1.1 and h2c, that counts connections for /stats.
type fakeServer struct {
	mu       sync.Mutex
	data     map[string]string
	accepted atomic.Uint64
	open     atomic.Int64
	// frozen makes /stats report no new accepts.
	frozen bool
	// quirk breaks one answer: "put ignored" or "delete always 204".
	quirk string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key, isGet := strings.CutPrefix(r.URL.Path, "/get/")
	skey, isStore := strings.CutPrefix(r.URL.Path, "/store/")
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		io.WriteString(w, "Hello, World!")
	case r.URL.Path == "/stats":
		acc := f.accepted.Load()
		if f.frozen {
			acc = 1
		}
		fmt.Fprintf(w, `{"engine":"loop","shards":[{"shard":0,"cpu":0,"accepted":%d,"open":%d}]}`, acc, f.open.Load())
	case isGet && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		v, ok := f.data[key]
		if !ok {
			http.Error(w, "no such key", http.StatusNotFound)
			return
		}
		io.WriteString(w, v)
	case isStore && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || f.quirk != "put ignored" {
			f.data[skey] = string(b)
		}
		io.WriteString(w, "OK\n")
	case isStore && r.Method == http.MethodDelete:
		if _, ok := f.data[skey]; !ok && f.quirk != "delete always 204" {
			http.NotFound(w, r)
			return
		}
		delete(f.data, skey)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// startFake serves f on loopback port 0; with h2 it also speaks h2c, with
// prior knowledge (net/http's own, which keeps counting connections) and
// by Upgrade (package h2c).
func startFake(t *testing.T, f *fakeServer, h2 bool) string {
	t.Helper()
	f.data = map[string]string{}
	var h http.Handler = f
	if h2 {
		h = h2c.NewHandler(f, &http2.Server{})
	}
	srv := httptest.NewUnstartedServer(h)
	if h2 {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			f.accepted.Add(1)
			f.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			f.open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestCheckAPI(t *testing.T) {
	addr := startFake(t, &fakeServer{}, true)
	if err := checkAPI(h1Client(), addr, 1); err != nil {
		t.Errorf("checkAPI(http1) = %v", err)
	}
	if err := checkAPI(h2cClient(), addr, 2); err != nil {
		t.Errorf("checkAPI(h2c) = %v", err)
	}
	tests := []struct {
		name    string
		quirk   string
		client  *http.Client
		proto   int
		wantErr string
	}{
		{"protocol", "", h1Client(), 2, "GET / = HTTP/1 200"},
		{"put ignored", "put ignored", h1Client(), 1, `HEAD /get/vmtest-h1 = HTTP/1 200 "" (Content-Length 14)`},
		{"delete of a missing key", "delete always 204", h2cClient(), 2, "DELETE /store/vmtest-h2 = HTTP/2 204"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startFake(t, &fakeServer{quirk: tc.quirk}, true)
			err := checkAPI(tc.client, addr, tc.proto)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("checkAPI() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckUpgrade(t *testing.T) {
	if err := checkUpgrade(startFake(t, &fakeServer{}, true)); err != nil {
		t.Errorf("checkUpgrade(h2c server) = %v", err)
	}
	err := checkUpgrade(startFake(t, &fakeServer{}, false))
	if err == nil || !strings.Contains(err.Error(), "want 101 and h2c") {
		t.Errorf("checkUpgrade(http1-only server) = %v, want no upgrade", err)
	}
}

func TestCheckSpread(t *testing.T) {
	var unpinned []int // a pinned thread could be the test's main thread
	for _, proto := range []int{1, 2} {
		detail, err := checkSpread(startFake(t, &fakeServer{}, true), proto, unpinned)
		if err != nil || detail != "conns=16 accepted 0:+16" {
			t.Errorf("checkSpread(h%d) = %q, %v, want 16 conns on shard 0", proto, detail, err)
		}
	}
	_, err := checkSpread(startFake(t, &fakeServer{frozen: true}, false), 1, unpinned)
	if err == nil || !strings.Contains(err.Error(), "shard 0 (cpu 0) accepted none of 16 connections") {
		t.Errorf("checkSpread(frozen stats) = %v, want shard 0 to have accepted none", err)
	}
	_, err = checkSpread(startFake(t, &fakeServer{}, false), 2, unpinned)
	if err == nil || !strings.Contains(err.Error(), "h2 conn 0") {
		t.Errorf("checkSpread(h2c to an HTTP/1-only server) = %v, want conn 0 to fail", err)
	}
}

func statsOf(t *testing.T, js string) *shard.Stats {
	t.Helper()
	var st shard.Stats
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestSpreadReport(t *testing.T) {
	before := `{"shards":[{"accepted":5,"open":1},{"accepted":2,"open":0}]}`
	tests := []struct {
		name    string
		after   string
		n       int
		wantErr string
	}{
		{"even", `{"shards":[{"accepted":9,"open":5},{"accepted":6,"open":4}]}`, 8, ""},
		{"one shard idle", `{"shards":[{"accepted":13,"open":9},{"accepted":2,"open":0}]}`, 8, "shard 1 (cpu 0) accepted none of 8"},
		{"lost connections", `{"shards":[{"accepted":9,"open":2},{"accepted":6,"open":2}]}`, 8, "open 4, want 8 and at least 9"},
		{"shard vanished", `{"shards":[{"accepted":9,"open":9}]}`, 8, "shard count changed from 2 to 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spreadReport(statsOf(t, before), statsOf(t, tc.after), tc.n)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("spreadReport() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
