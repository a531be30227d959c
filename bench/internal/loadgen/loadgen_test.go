package loadgen

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/corekv/corekv/bench/internal/workload"
)

// kvServer is an in-memory key-value server over HTTP/1.1 and h2c;
// tamper, when set, may rewrite an answer's status and body.
type kvServer struct {
	mu     sync.Mutex
	m      map[string][]byte
	tamper func(key string, body []byte) (int, []byte)
	hang   bool
	stop   chan struct{} // closed at cleanup: hung handlers return
}

// misbehave sets how the server misbehaves from now on.
func (s *kvServer) misbehave(hang bool, tamper func(key string, body []byte) (int, []byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang, s.tamper = hang, tamper
}

func (s *kvServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hang, tamper := s.hang, s.tamper
	s.mu.Unlock()
	if hang && r.URL.Path != "/" {
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		return
	}
	switch {
	case r.URL.Path == "/":
		io.WriteString(w, "Hello, World!")
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/store/"):
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.m[strings.TrimPrefix(r.URL.Path, "/store/")] = b
		s.mu.Unlock()
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/get/"):
		key := strings.TrimPrefix(r.URL.Path, "/get/")
		s.mu.Lock()
		v, ok := s.m[key]
		s.mu.Unlock()
		status := http.StatusOK
		if !ok {
			status, v = http.StatusNotFound, []byte("not found")
		}
		if tamper != nil {
			status, v = tamper(key, v)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(v)))
		w.WriteHeader(status)
		w.Write(v)
	default:
		http.NotFound(w, r)
	}
}

// serve starts s on a loopback port and returns its address.
func serve(t *testing.T, s *kvServer) string {
	t.Helper()
	s.m = map[string][]byte{}
	s.stop = make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	t.Cleanup(func() {
		close(s.stop)
		srv.Close()
	})
	return ln.Addr().String()
}

func newWorkload(t *testing.T, c workload.Config) *workload.Workload {
	t.Helper()
	w, err := workload.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRunAgainstServer(t *testing.T) {
	for _, c := range []struct {
		name  string
		proto Proto
		block bool
	}{{"h1", H1, false}, {"h1-block", H1, true}, {"h2c", H2C, false}} {
		for _, rate := range []float64{2000, 0} {
			name := c.name + "/closed"
			if rate > 0 {
				name = c.name + "/open"
			}
			t.Run(name, func(t *testing.T) {
				addr := serve(t, &kvServer{})
				// A generous Timeout: a loaded test machine must not turn slow answers into errors.
				cfg := Config{Addr: addr, Proto: c.proto, Block: c.block, Conns: 3, Streams: 2, Pipeline: 2, Timeout: 30 * time.Second}
				w := newWorkload(t, workload.Config{Keys: 100})
				if err := Preload(context.Background(), cfg, w); err != nil {
					t.Fatalf("Preload: %v", err)
				}
				for k := range 100 {
					if got := w.Ledger().Acked(k); got != 1 {
						t.Fatalf("after Preload Acked(%d) = %d, want 1", k, got)
					}
				}
				step := Step{Rate: rate, Duration: 200 * time.Millisecond}
				res, err := Run(context.Background(), cfg, w, step, 1)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if res.Errors.Total() != 0 {
					t.Fatalf("Run: %+v errors, first: %s", res.Errors, res.FirstError)
				}
				timed := res.Latency[workload.Get].TotalCount() + res.Latency[workload.Store].TotalCount()
				if timed != res.Completed || res.Completed != res.Sent || res.Completed == 0 {
					t.Errorf("timed %d, completed %d, sent %d: want all equal and above 0", timed, res.Completed, res.Sent)
				}
				if rate > 0 {
					if res.Completed != 400 || res.Lateness.TotalCount() != 400 {
						t.Errorf("open loop at 2000/s for 200ms: %d answers, %d lateness samples, want 400 each", res.Completed, res.Lateness.TotalCount())
					}
				}
				if busy := res.Busy > 0; busy != !c.block {
					t.Errorf("Busy = %v: want it measured by the polling engines alone", res.Busy)
				}
				if res.Latency[workload.Store].TotalCount() == 0 || res.Latency[workload.Get].TotalCount() == 0 {
					t.Errorf("a mix with no stores or no gets: %d gets, %d stores", res.Latency[workload.Get].TotalCount(), res.Latency[workload.Store].TotalCount())
				}
			})
		}
	}
}

func TestWrongAnswersAreCountedNotTimed(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(key string, body []byte) (int, []byte)
		count  func(Errors) int64
	}{
		{"corrupt value", func(key string, b []byte) (int, []byte) {
			if key == "key3" && len(b) > 10 {
				b = append([]byte(nil), b...)
				b[10] ^= 1
			}
			return 200, b
		}, func(e Errors) int64 { return e.Wrong }},
		{"another key's value", func(key string, b []byte) (int, []byte) {
			if key == "key3" {
				return 200, make([]byte, len(b))
			}
			return 200, b
		}, func(e Errors) int64 { return e.Wrong }},
		{"lost key", func(key string, b []byte) (int, []byte) {
			if key == "key3" {
				return 404, nil
			}
			return 200, b
		}, func(e Errors) int64 { return e.Missing }},
		{"server error", func(key string, b []byte) (int, []byte) {
			if key == "key3" {
				return 500, []byte("oops")
			}
			return 200, b
		}, func(e Errors) int64 { return e.Status }},
	}
	for _, tc := range tests {
		for _, proto := range []Proto{H1, H2C} {
			t.Run(tc.name+"/"+string(proto), func(t *testing.T) {
				s := &kvServer{}
				addr := serve(t, s)
				cfg := Config{Addr: addr, Proto: proto, Conns: 2}
				w := newWorkload(t, workload.Config{Keys: 4, ReadRatio: 1})
				if err := Preload(context.Background(), cfg, w); err != nil {
					t.Fatalf("Preload: %v", err)
				}
				s.misbehave(false, tc.tamper)
				res, err := Run(context.Background(), cfg, w, Step{Rate: 4000, Duration: 100 * time.Millisecond}, 1)
				if err != nil {
					t.Fatal(err)
				}
				bad := tc.count(res.Errors)
				if bad == 0 || bad != res.Errors.Total() {
					t.Fatalf("errors %+v, want some, all of the expected kind", res.Errors)
				}
				if !strings.Contains(res.FirstError, "key3") {
					t.Errorf("FirstError %q does not name key3", res.FirstError)
				}
				if timed := res.All().TotalCount(); timed != res.Completed || res.Completed+bad != 400 {
					t.Errorf("timed %d, completed %d, failed %d: want timed == completed and 400 in all", timed, res.Completed, bad)
				}
			})
		}
	}
}

func TestTimeouts(t *testing.T) {
	for _, c := range []struct {
		name  string
		proto Proto
		block bool
	}{{"h1", H1, false}, {"h1-block", H1, true}, {"h2c", H2C, false}} {
		t.Run(c.name, func(t *testing.T) {
			s := &kvServer{}
			addr := serve(t, s)
			cfg := Config{Addr: addr, Proto: c.proto, Block: c.block, Conns: 1, Timeout: 100 * time.Millisecond}
			w := newWorkload(t, workload.Config{Keys: 4, ReadRatio: 1})
			if err := Preload(context.Background(), cfg, w); err != nil {
				t.Fatalf("Preload: %v", err)
			}
			s.misbehave(true, nil)
			res, err := Run(context.Background(), cfg, w, Step{Rate: 1000, Duration: 50 * time.Millisecond}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if res.Completed != 0 || res.Errors.Timeout == 0 || res.Errors.Timeout+res.Errors.IO != 50 {
				t.Errorf("against a hung server: %d answers, errors %+v, want 0 and 50 timeouts (h2c: later ones may fail otherwise)", res.Completed, res.Errors)
			}
		})
	}
}

func TestConnectFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := newWorkload(t, workload.Config{Keys: 4})
	if _, err := Run(context.Background(), Config{Addr: addr}, w, Step{Duration: time.Millisecond}, 1); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Run against a closed port = %v, want an error naming %s", err, addr)
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
