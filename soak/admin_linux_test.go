package soak

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHealthzDrain checks the admin listener's readiness: /healthz is 200
// while corekv serves, 503 from SIGTERM on while the drain waits for a
// request still arriving, which is then answered; the public port never
// serves pprof.
func TestHealthzDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corekv and runs it; skipped in -short mode")
	}
	bin := buildCorekv(t)
	for _, engine := range []string{"loop", "std"} {
		t.Run(engine, func(t *testing.T) {
			srv := startServer(t, bin, 10*time.Second, "--engine", engine)
			admin := srv.adminAddr()
			if status, body := healthz(t, admin); status != 200 || body != "ok\n" {
				t.Fatalf("/healthz serving: %d %q, want 200 ok", status, body)
			}
			if resp, err := http.Get("http://" + srv.addr + "/debug/pprof/"); err != nil || resp.StatusCode != 404 {
				t.Errorf("public port /debug/pprof/: %v %v, want 404", resp, err)
			} else {
				resp.Body.Close()
			}
			probe := startH1Probe(t, srv) // a store half sent, which holds the drain
			srv.terminate()
			ctx, cancel := context.WithTimeout(context.Background(), probeWait)
			defer cancel()
			var status int
			var body string
			if !waitFor(ctx, func() bool { status, body = healthz(t, admin); return status == 503 }) {
				t.Fatalf("/healthz after SIGTERM: %d %q, want 503 while draining", status, body)
			}
			if !strings.Contains(body, "draining") {
				t.Errorf("/healthz draining: body %q, want it to say draining", body)
			}
			// The loops drain once their listeners are closed: then the
			// probe's answer closes its connection.
			if !waitFor(ctx, func() bool { return refused(srv.addr) }) {
				t.Fatalf("corekv still accepts connections %v after SIGTERM", probeWait)
			}
			probe.finish(t)
			srv.wait()
		})
	}
}

// healthz asks the admin listener whether corekv is ready.
func healthz(t *testing.T, admin string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
