package shard

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/corekv/corekv/metrics"
)

// scrape parses the group's exposition.
func scrape(t *testing.T, g *Group) map[string]*dto.MetricFamily {
	t.Helper()
	var b bytes.Buffer
	if err := metrics.WriteText(&b, g.Scrape()); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return mfs
}

// sample returns the value of the one series of family name whose labels
// include want (a histogram's sample count), or -1 if there is none.
func sample(mfs map[string]*dto.MetricFamily, name string, want ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
	v := -1.0
	for _, m := range mf.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && labels[want[i]] == want[i+1]
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Histogram != nil:
			v = float64(m.Histogram.GetSampleCount())
		}
	}
	return v
}

// TestMetricsCount drives known requests through each engine and reads
// them back from the exposition: by route, method, status and protocol,
// store hits and misses, the latency histogram, bytes and connections.
func TestMetricsCount(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ts := start(t, Config{Engine: engine}, 1)
			raw := "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nv" +
				strings.Repeat("GET /get/k HTTP/1.1\r\nHost: x\r\n\r\n", 3) +
				"GET /get/nope HTTP/1.1\r\nHost: x\r\n\r\n" +
				"DELETE /store/k HTTP/1.1\r\nHost: x\r\n\r\n" +
				"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n" +
				"GET / HTTP/1.0\r\n\r\n"
			got := exchangePipelined(t, ts.addr, raw, 8)
			if want := []int{200, 200, 200, 200, 404, 204, 404, 200}; !slices.Equal(got, want) {
				t.Fatalf("statuses %v, want %v", got, want)
			}
			resp, err := h2Client().Get("http://" + ts.addr + "/get/nope")
			if err != nil || resp.StatusCode != 404 {
				t.Fatalf("h2 GET: %v %v, want 404", resp, err)
			}
			resp.Body.Close()

			want := []struct {
				name   string
				labels []string
				value  float64
			}{
				{"corekv_requests_total", []string{"route", "store", "method", "POST", "status", "200", "proto", "HTTP/1.1"}, 1},
				{"corekv_requests_total", []string{"route", "get", "method", "GET", "status", "200", "proto", "HTTP/1.1"}, 3},
				{"corekv_requests_total", []string{"route", "get", "method", "GET", "status", "404", "proto", "HTTP/1.1"}, 1},
				{"corekv_requests_total", []string{"route", "delete", "method", "DELETE", "status", "204", "proto", "HTTP/1.1"}, 1},
				{"corekv_requests_total", []string{"route", "none", "method", "GET", "status", "404", "proto", "HTTP/1.1"}, 1},
				{"corekv_requests_total", []string{"route", "hello", "method", "GET", "status", "200", "proto", "HTTP/1.0"}, 1},
				{"corekv_requests_total", []string{"route", "get", "method", "GET", "status", "404", "proto", "HTTP/2.0"}, 1},
				{"corekv_store_hits_total", []string{"shard", "0"}, 3},
				{"corekv_store_misses_total", []string{"shard", "0"}, 2},
				{"corekv_request_duration_seconds", []string{"shard", "0"}, 9},
				{"corekv_http2_streams_total", []string{"shard", "0"}, 1},
			}
			var mfs map[string]*dto.MetricFamily
			deadline := time.Now().Add(5 * time.Second)
			for {
				// The loop times a batch once the kernel took it: the
				// client may read the answer first.
				mfs = scrape(t, ts.g)
				if sample(mfs, "corekv_request_duration_seconds", "shard", "0") == 9 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, w := range want {
				if got := sample(mfs, w.name, w.labels...); got != w.value {
					t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
				}
			}
			for _, name := range []string{"corekv_received_bytes_total", "corekv_sent_bytes_total"} {
				if got := sample(mfs, name, "shard", "0"); got < float64(len(raw)) {
					t.Errorf("%s = %v, want at least the %d bytes of the HTTP/1 requests", name, got, len(raw))
				}
			}
			if got := sample(mfs, "corekv_connections_accepted_total", "shard", "0"); got != 2 {
				t.Errorf("connections accepted = %v, want 2 (HTTP/1 and HTTP/2)", got)
			}
		})
	}
}

// exchangePipelined sends raw on one connection and reads n answers'
// statuses.
func exchangePipelined(t *testing.T, addr, raw string, n int) []int {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var statuses []int
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", len(statuses), err)
		}
		io.Copy(io.Discard, resp.Body)
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses
}

// TestScrapeStore checks that the store's own figures reach the
// exposition: items and bytes, and its mapped memory by node.
func TestScrapeStore(t *testing.T) {
	ts := start(t, Config{Engine: EngineLoop}, 1)
	resp, body := exchange(t, ts.addr, "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nvalue")
	if resp.StatusCode != 200 {
		t.Fatalf("store: %d %q", resp.StatusCode, body)
	}
	mfs := scrape(t, ts.g)
	if got := sample(mfs, "corekv_store_items"); got != 1 {
		t.Errorf("corekv_store_items = %v, want 1", got)
	}
	if got := sample(mfs, "corekv_store_bytes"); got != 6 {
		t.Errorf("corekv_store_bytes = %v, want 6 (key and value)", got)
	}
	var mapped float64
	if mf := mfs["corekv_store_memory_bytes"]; mf != nil {
		for _, m := range mf.Metric {
			mapped += m.Gauge.GetValue()
		}
	}
	if st := ts.g.Stats().Store; mapped != float64(st.ArenaBytes) || mapped == 0 {
		t.Errorf("corekv_store_memory_bytes sums to %v, want the store's mapped %d bytes (not 0)", mapped, st.ArenaBytes)
	}
}
