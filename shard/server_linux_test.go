package shard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/corekv/corekv/affinity"
	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/internal/http1"
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/store"
	"github.com/corekv/corekv/topology"
)

// testServer is a group of shards serving on a loopback port.
type testServer struct {
	g     *Group
	addr  string
	store *store.Cache
	stop  context.CancelFunc
	done  chan error
}

// start serves a group of n shards on 127.0.0.1, port 0.
// testStore returns a store for limits, its segments large enough for
// the largest entry they allow, configured by cfg otherwise.
func testStore(t testing.TB, lim api.Limits, cfg store.Config) *store.Cache {
	t.Helper()
	lim = lim.WithDefaults()
	cfg.SegmentSize = max(store.DefaultSegmentSize, (store.EntrySize(lim.MaxKeySize, lim.MaxValueSize)+3)&^3)
	c, err := store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t *testing.T, cfg Config, n int) *testServer {
	t.Helper()
	lns, err := socket.ListenGroup(socket.Config{Host: "127.0.0.1"}, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(cfg.Plan); i < n; i++ {
		cfg.Plan = append(cfg.Plan, topology.Shard{Shard: i, CPU: -1})
	}
	cfg.Listeners = lns
	if cfg.Limits.MaxValueSize == 0 {
		cfg.Limits = api.Limits{MaxKeySize: 64, MaxValueSize: 128 << 10}
	}
	if cfg.Store == nil {
		cfg.Store = testStore(t, cfg.Limits, store.Config{})
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{g: g, addr: lns[0].Addr.String(), store: cfg.Store, stop: cancel, done: make(chan error, 1)}
	go func() { ts.done <- g.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

var engines = []string{EngineLoop, EngineStd}

// exchange sends raw bytes on a new connection and reads one response.
func exchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	resp, body, _ := exchangeClose(t, addr, raw, false)
	return resp, body
}

// exchangeClose is exchange that also reports, when asked, whether the
// server closed the connection after its answer.
func exchangeClose(t *testing.T, addr, raw string, checkClose bool) (*http.Response, string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	method := raw[:strings.IndexByte(raw, ' ')]
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response to %q: %v", raw, err)
	}
	body, _ := io.ReadAll(resp.Body)
	closed := false
	if checkClose {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := br.ReadByte()
		closed = err == io.EOF
	}
	return resp, string(body), closed
}

func TestAPI(t *testing.T) {
	big := strings.Repeat("v", 128<<10+1)
	tests := []struct {
		name     string
		raw      string
		status   int
		body     string // checked when not empty
		header   string // "Name: value" checked when not empty
		closeRsp bool   // the server must close the connection after answering
	}{
		{"hello", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Hello, World!", "Content-Length: 13", false},
		{"hello head", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", "Content-Length: 13", false},
		{"store", "POST /store/k1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nvalue", 200, "", "", false},
		{"get stored", "GET /get/k1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "value", "Content-Type: application/octet-stream", false},
		{"head stored", "HEAD /get/k1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", "Content-Length: 5", false},
		{"put", "PUT /store/k2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 200, "", "", false},
		{"percent-decoded key", "GET /get/k%32 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "abc", "", false},
		{"query ignored", "GET /get/k2?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "abc", "", false},
		{"absolute form", "GET http://x/get/k2 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "abc", "", false},
		{"chunked store", "POST /store/k3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 200, "", "", false},
		{"get chunked", "GET /get/k3 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "abcde", "", false},
		{"empty value", "POST /store/k4 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 200, "", "", false},
		{"get empty", "GET /get/k4 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", "Content-Length: 0", false},
		{"delete", "DELETE /store/k4 HTTP/1.1\r\nHost: x\r\n\r\n", 204, "", "", false},
		{"delete again", "DELETE /store/k4 HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no such key\n", "", false},
		{"missing", "GET /get/nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no such key\n", "", false},
		{"unknown route", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no such route\n", "", false},
		{"key with slash", "GET /get/a/b HTTP/1.1\r\nHost: x\r\n\r\n", 404, "", "", false},
		{"wrong method store", "GET /store/k1 HTTP/1.1\r\nHost: x\r\n\r\n", 405, "", "Allow: POST, PUT, DELETE", false},
		{"wrong method get", "POST /get/k1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 405, "", "Allow: GET, HEAD", false},
		{"empty key", "POST /store/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", 400, "empty key\n", "", false},
		{"bad escape", "GET /get/a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "", "", false},
		{"key too long", "GET /get/" + strings.Repeat("k", 65) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "", "", false},
		{"no length", "POST /store/k1 HTTP/1.1\r\nHost: x\r\n\r\n", 411, "", "", false},
		{"too large", "POST /store/k1 HTTP/1.1\r\nHost: x\r\nContent-Length: " + fmt.Sprint(len(big)) + "\r\n\r\n" + big, 413, "", "", true},
		{"value kept after refusals", "GET /get/k1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "value", "", false},
		{"http10", "GET / HTTP/1.0\r\n\r\n", 200, "Hello, World!", "", true},
		{"connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "", "", true},
		{"version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "", "", false},
		{"stats", "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", 200, "", "Content-Type: application/json", false},
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 2)
			for _, tc := range tests {
				resp, body, closed := exchangeClose(t, ts.addr, tc.raw, tc.closeRsp)
				if resp.StatusCode != tc.status {
					t.Errorf("%s: status %d (%q), want %d", tc.name, resp.StatusCode, body, tc.status)
					continue
				}
				if tc.body != "" && body != tc.body {
					t.Errorf("%s: body %q, want %q", tc.name, body, tc.body)
				}
				if tc.header != "" {
					name, value, _ := strings.Cut(tc.header, ": ")
					if got := resp.Header.Get(name); got != value && !(name == "Content-Length" && fmt.Sprint(resp.ContentLength) == value) {
						t.Errorf("%s: %s = %q, want %q", tc.name, name, got, value)
					}
				}
				if tc.closeRsp && !closed {
					t.Errorf("%s: the connection stayed open", tc.name)
				}
				if strings.HasPrefix(tc.raw, "HEAD") && body != "" {
					t.Errorf("%s: HEAD answered with a body %q", tc.name, body)
				}
			}
		})
	}
}

// TestLoopRefusals covers what only the loop engine's own parser answers
// (net/http has its own, different, answers to these).
func TestLoopRefusals(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop, MaxHeaderSize: 1024}, 1)
	tests := []struct {
		name, raw string
		status    int
	}{
		{"line too long", "GET /" + strings.Repeat("a", 2000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"headers too long", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 2000) + "\r\n\r\n", 431},
		{"smuggling", "POST /store/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"gzip", "POST /store/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n", 417},
		{"no host", "GET / HTTP/1.1\r\n\r\n", 400},
	}
	for _, tc := range tests {
		resp, body := exchange(t, ts.addr, tc.raw)
		if resp.StatusCode != tc.status || !resp.Close {
			t.Errorf("%s: status %d close %v (%q), want %d and close", tc.name, resp.StatusCode, resp.Close, body, tc.status)
		}
	}
	if _, _, ok := ts.store.Get(nil, []byte("s")); ok {
		t.Errorf("a refused request stored a value")
	}
}

func TestPipelining(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var batch strings.Builder
			for i := 0; i < 50; i++ {
				fmt.Fprintf(&batch, "POST /store/p%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%d", i, len(fmt.Sprint(i)), i)
				fmt.Fprintf(&batch, "GET /get/p%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			}
			io.WriteString(c, batch.String())
			br := bufio.NewReader(c)
			for i := 0; i < 50; i++ {
				for _, want := range []string{"OK\n", fmt.Sprint(i)} {
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 || string(body) != want {
						t.Fatalf("response %d: %d %q, want 200 %q", i, resp.StatusCode, body, want)
					}
				}
			}
		})
	}
}

func TestExpectContinue(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "POST /store/e HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n")
			br := bufio.NewReader(c)
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
				t.Fatalf("interim response %q, %v; want 100 Continue", line, err)
			}
			br.ReadString('\n')
			io.WriteString(c, strings.Repeat("e", 2000))
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("final response %v, %v; want 200", resp, err)
			}
			if v, _, _ := ts.store.Get(nil, []byte("e")); len(v) != 2000 {
				t.Errorf("stored %d bytes, want 2000", len(v))
			}
		})
	}
}

// h2Client speaks HTTP/2 over cleartext TCP by prior knowledge.
func h2Client() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

func TestH2C(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 2)
			cl := h2Client()
			value := bytes.Repeat([]byte{0, 1, 2, 0xff}, 16<<10) // 64 KiB, binary
			resp, err := cl.Post("http://"+ts.addr+"/store/bin", "application/octet-stream", bytes.NewReader(value))
			if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
				t.Fatalf("h2 store: %v %v", resp, err)
			}
			resp.Body.Close()
			resp, err = cl.Get("http://" + ts.addr + "/get/bin")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !bytes.Equal(got, value) {
				t.Fatalf("h2 get: %d, %d bytes; want 200 and the stored value", resp.StatusCode, len(got))
			}
			resp, err = cl.Get("http://" + ts.addr + "/store/bin")
			if err != nil || resp.StatusCode != 405 {
				t.Fatalf("h2 wrong method: %v %v; want 405", resp, err)
			}
			testUpgrade(t, ts.addr)
		})
	}
}

// testUpgrade stores a value through an Upgrade: h2c request and reads the
// answer on HTTP/2 stream 1.
func testUpgrade(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /store/up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 7\r\n\r\nupgrade")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v; want 101", resp, err)
	}
	io.WriteString(c, http1.Preface)
	fr := http2.NewFramer(c, br)
	fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the upgraded answer: %v", err)
		}
		if h, ok := f.(*http2.HeadersFrame); ok && h.StreamID == 1 {
			break
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, body := exchange(t, addr, "GET /get/up HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp.StatusCode == 200 {
			if body != "upgrade" {
				t.Fatalf("value stored by the upgrade = %q, want %q", body, "upgrade")
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the upgraded request was not stored")
}

func TestReusePortSpread(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 4)
			var conns []net.Conn
			for i := 0; i < 200; i++ {
				c, err := net.Dial("tcp", ts.addr)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
					t.Fatal(err)
				}
			}
			var total uint64
			for _, s := range ts.g.Stats().Shards {
				if s.Accepted == 0 {
					t.Errorf("shard %d accepted no connection of 200", s.Shard)
				}
				total += s.Accepted
			}
			if total != 200 {
				t.Errorf("shards accepted %d connections in all, want 200", total)
			}
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

// TestConcurrencyLimit checks that no more requests than the limit are
// served at once, and that none beyond it is dropped. The loop engine
// serves HTTP/2 on its own thread, not through wrap: its streams are
// checked by TestLoopH2ConcurrencyLimit.
func TestConcurrencyLimit(t *testing.T) {
	const limit, clients = 2, 8
	for _, engine := range []string{EngineStd} {
		t.Run(engine, func(t *testing.T) {
			var mu sync.Mutex
			cur, peak := 0, 0
			slow := func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					cur++
					peak = max(peak, cur)
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
					mu.Lock()
					cur--
					mu.Unlock()
					h.ServeHTTP(w, r)
				})
			}
			ts := start(t, Config{Engine: engine, ConcurrencyLimit: limit, wrap: slow}, 1)
			cl := h2Client()
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i := 0; i < clients; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := cl.Get("http://" + ts.addr + "/")
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
					if err == nil {
						resp.Body.Close()
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("request: %v", err)
				}
			}
			if peak != limit {
				t.Errorf("peak concurrency %d, want %d", peak, limit)
			}
		})
	}
}

// TestShutdownDrains checks that a request in flight at shutdown is
// answered. The loop engine's HTTP/2 drain is TestLoopH2Drain.
func TestShutdownDrains(t *testing.T) {
	for _, engine := range []string{EngineStd} {
		t.Run(engine, func(t *testing.T) {
			entered := make(chan struct{})
			slow := func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(entered)
					time.Sleep(200 * time.Millisecond)
					h.ServeHTTP(w, r)
				})
			}
			ts := start(t, Config{Engine: engine, wrap: slow}, 1)
			got := make(chan error, 1)
			go func() {
				resp, err := h2Client().Get("http://" + ts.addr + "/")
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				got <- err
			}()
			<-entered
			ts.stop()
			if err := <-got; err != nil {
				t.Errorf("in-flight request during shutdown: %v", err)
			}
			if err := <-ts.done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			ts.done <- nil // for the cleanup
			if c, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
				c.Close()
				t.Errorf("a connection was accepted after shutdown")
			}
		})
	}
}

// TestCurl drives the API with the real curl a user has: HTTP/1.1, HTTP/2
// by prior knowledge and by Upgrade, with a 64 KiB binary value and a body
// over 1 KiB (for which curl sends Expect: 100-continue).
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is not installed; scripts/test.sh installs it")
		}
		t.Skip("curl is not installed")
	}
	binary := make([]byte, 64<<10)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	file := filepath.Join(t.TempDir(), "value")
	os.WriteFile(file, binary, 0o600)
	run := func(args ...string) (int, []byte) {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "-o", "-", "-w", "\n%{http_code} %{http_version}"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		i := bytes.LastIndexByte(out, '\n')
		var code int
		var version string
		fmt.Sscanf(string(out[i+1:]), "%d %s", &code, &version)
		return code, out[:i]
	}
	for _, engine := range engines {
		ts := start(t, Config{Engine: engine}, 2)
		base := "http://" + ts.addr
		for _, proto := range []string{"--http1.1", "--http2-prior-knowledge", "--http2"} {
			key := "/k" + strings.TrimLeft(proto, "-")
			if code, _ := run(proto, "--data-binary", "@"+file, base+"/store"+key); code != 200 {
				t.Fatalf("%s %s store: status %d", engine, proto, code)
			}
			code, got := run(proto, base+"/get"+key)
			if code != 200 || !bytes.Equal(got, binary) {
				t.Fatalf("%s %s get: status %d, %d bytes; want 200 and the 64 KiB value", engine, proto, code, len(got))
			}
			if code, got := run(proto, base+"/"); code != 200 || string(got) != "Hello, World!" {
				t.Errorf("%s %s hello: %d %q", engine, proto, code, got)
			}
			if code, _ := run(proto, "-X", "DELETE", base+"/store"+key); code != 204 {
				t.Errorf("%s %s delete: status %d, want 204", engine, proto, code)
			}
			if code, _ := run(proto, base+"/get"+key); code != 404 {
				t.Errorf("%s %s get after delete: status %d, want 404", engine, proto, code)
			}
			if code, _ := run(proto, "-X", "PUT", base+"/get"+key); code != 405 {
				t.Errorf("%s %s wrong method: status %d, want 405", engine, proto, code)
			}
		}
	}
}

// TestPinnedLoops checks that with pinning each event-loop thread may run
// on its shard's CPU alone.
func TestPinnedLoops(t *testing.T) {
	allowed, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	var plan []topology.Shard
	for i, cpu := range allowed {
		plan = append(plan, topology.Shard{Shard: i, CPU: cpu})
	}
	ts := start(t, Config{Engine: EngineLoop, Pin: true, Plan: plan}, len(plan))
	deadline := time.Now().Add(5 * time.Second)
	for _, st := range ts.g.Stats().Shards {
		for (st.TID == 0 || !st.Pinned) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			st = ts.g.Stats().Shards[st.Shard]
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", st.TID))
		if err != nil {
			t.Fatalf("shard %d: %v", st.Shard, err)
		}
		var list string
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				list = strings.TrimSpace(v)
			}
		}
		if want := fmt.Sprint(st.CPU); list != want {
			t.Errorf("shard %d thread %d: Cpus_allowed_list %q, want %q", st.Shard, st.TID, list, want)
		}
	}
}
