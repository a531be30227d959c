package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testConfig(ready *error) Config {
	return Config{
		Metrics: func(w io.Writer) error {
			_, err := io.WriteString(w, "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n")
			return err
		},
		Stats: func(w io.Writer) error {
			_, err := io.WriteString(w, `{"shards":[]}`+"\n")
			return err
		},
		Ready: func() error { return *ready },
	}
}

func TestHandler(t *testing.T) {
	ready := error(nil)
	h := Handler(testConfig(&ready))
	tests := []struct {
		name, method, path string
		ready              error
		wantStatus         int
		wantType, wantBody string
	}{
		{"metrics", "GET", "/metrics", nil, 200, defaultContentType, "x_total 1\n"},
		{"stats", "GET", "/stats", nil, 200, "application/json", `{"shards":[]}`},
		{"healthz ready", "GET", "/healthz", nil, 200, "text/plain; charset=utf-8", "ok\n"},
		{"healthz draining", "GET", "/healthz", errors.New("draining"), 503, "text/plain; charset=utf-8", "draining\n"},
		{"pprof index", "GET", "/debug/pprof/", nil, 200, "text/html; charset=utf-8", "goroutine"},
		{"pprof goroutines", "GET", "/debug/pprof/goroutine?debug=1", nil, 200, "text/plain; charset=utf-8", "goroutine profile:"},
		{"pprof cmdline", "GET", "/debug/pprof/cmdline", nil, 200, "text/plain; charset=utf-8", ""},
		{"unknown path", "GET", "/get/x", nil, 404, "text/plain; charset=utf-8", "404 page not found"},
		{"wrong method", "POST", "/metrics", nil, 405, "text/plain; charset=utf-8", "Method Not Allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ready = tc.ready
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.wantStatus {
				t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, w.Code, tc.wantStatus)
			}
			if got := w.Header().Get("Content-Type"); got != tc.wantType {
				t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, got, tc.wantType)
			}
			if !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Errorf("%s %s: body %q, want it to contain %q", tc.method, tc.path, w.Body.String(), tc.wantBody)
			}
		})
	}
}

func TestMetricsError(t *testing.T) {
	h := Handler(Config{Metrics: func(w io.Writer) error {
		io.WriteString(w, "partial")
		return errors.New("store unreadable")
	}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 500 || strings.Contains(w.Body.String(), "partial") || !strings.Contains(w.Body.String(), "store unreadable") {
		t.Errorf("GET /metrics failing: status %d, body %q; want 500 with the error and no partial exposition", w.Code, w.Body)
	}
}

func TestUnsetEndpoints(t *testing.T) {
	h := Handler(Config{})
	for _, path := range []string{"/metrics", "/stats", "/healthz"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 404 {
			t.Errorf("GET %s with nothing to serve: status %d, want 404", path, w.Code)
		}
	}
}

// TestServeProfile takes a one-second CPU profile from a live listener,
// then shuts down.
func TestServeProfile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := error(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, testConfig(&ready)) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Errorf("CPU profile: status %d, %d bytes, %v; want 200 and a gzipped profile", resp.StatusCode, len(body), err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still running 10s after its context ended")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("the listener still answers after Serve returned")
	}
}
