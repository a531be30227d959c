package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corekv/corekv/store"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name, method, path string
		want               route
	}{
		{"hello", "GET", "/", route{Op: OpHello}},
		{"hello head", "HEAD", "/", route{Op: OpHello, Head: true}},
		{"hello post", "POST", "/", route{Status: 405, Allow: allowHello}},
		{"hello options", "OPTIONS", "/", route{Status: 405, Allow: allowHello}},
		{"stats", "GET", "/stats", route{Op: OpStats}},
		{"stats head", "HEAD", "/stats", route{Op: OpStats, Head: true}},
		{"stats delete", "DELETE", "/stats", route{Status: 405, Allow: allowStats}},
		{"stats with slash", "GET", "/stats/", route{Status: 404}},
		{"get", "GET", "/get/k", route{Op: OpGet, Key: "k"}},
		{"get head", "HEAD", "/get/k", route{Op: OpHead, Head: true, Key: "k"}},
		{"get escaped key kept raw", "GET", "/get/a%2Fb", route{Op: OpGet, Key: "a%2Fb"}},
		{"get empty key", "GET", "/get/", route{Op: OpGet, Key: ""}},
		{"get put", "PUT", "/get/k", route{Status: 405, Allow: allowGet}},
		{"get delete", "DELETE", "/get/k", route{Status: 405, Allow: allowGet}},
		{"get two segments", "GET", "/get/a/b", route{Status: 404}},
		{"get without slash", "GET", "/get", route{Status: 404}},
		{"store post", "POST", "/store/k", route{Op: OpSet, Key: "k"}},
		{"store put", "PUT", "/store/k", route{Op: OpSet, Key: "k"}},
		{"store delete", "DELETE", "/store/k", route{Op: OpDelete, Key: "k"}},
		{"store get", "GET", "/store/k", route{Status: 405, Allow: allowStore}},
		{"store head", "HEAD", "/store/k", route{Status: 405, Allow: allowStore}},
		{"store patch", "PATCH", "/store/k", route{Status: 405, Allow: allowStore}},
		{"store two segments", "POST", "/store/a/b", route{Status: 404}},
		{"lower-case method", "get", "/get/k", route{Status: 405, Allow: allowGet}},
		{"unknown path", "GET", "/nope", route{Status: 404}},
		{"unknown path any method", "DELETE", "/nope", route{Status: 404}},
		{"double slash", "GET", "//get/k", route{Status: 404}},
		{"asterisk", "OPTIONS", "*", route{Status: 404}},
		{"empty path", "GET", "", route{Status: 404}},
		{"case matters in paths", "GET", "/GET/k", route{Status: 404}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := match(tc.method, tc.path); got != tc.want {
				t.Errorf("Match(%q, %q) = %+v, want %+v", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		match("GET", "/get/k")
		match("POST", "/get/k")
		match("DELETE", "/store/a%2Fb")
	})
	if allocs != 0 {
		t.Errorf("Match: %v allocations, want 0", allocs)
	}
}

func TestSplitTarget(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"path only", "/get/k", "/get/k"},
		{"query", "/get/k?x=1", "/get/k"},
		{"fragment", "/get/k#f", "/get/k"},
		{"query then fragment", "/get/k?x#f", "/get/k"},
		{"fragment then query", "/get/k#f?x", "/get/k"},
		{"escaped question mark kept", "/get/a%3Fb", "/get/a%3Fb"},
		{"query only", "?x", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitTarget(tc.in); got != tc.want {
				t.Errorf("SplitTarget(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"origin form", "/get/k", "/get/k"},
		{"absolute form", "http://example.com/get/k", "/get/k"},
		{"absolute form https upper case", "HTTPS://example.com/get/k?x", "/get/k?x"},
		{"absolute form with port", "http://example.com:8080/stats", "/stats"},
		{"absolute form without path", "http://example.com", "/"},
		{"absolute form query without path", "http://example.com?x", "/?x"},
		{"absolute form escaped key", "http://example.com/get/a%2Fb", "/get/a%2Fb"},
		{"asterisk", "*", "*"},
		{"other scheme kept", "ftp://example.com/get/k", "ftp://example.com/get/k"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := origin(tc.in); got != tc.want {
				t.Errorf("origin(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Handler test limits: small enough to reach each refusal.
const (
	testMaxKey   = 8
	testMaxValue = 16
	testMaxBytes = 16 // store bytes: keys plus values
)

// newTestHandler returns a handler over a store that holds k=v.
func newTestHandler(t *testing.T) (*Handler, *store.Cache) {
	t.Helper()
	st := newTestStore(t)
	if err := st.Set([]byte("k"), []byte("v"), 0); err != nil {
		t.Fatalf("Set(k, v) = %v", err)
	}
	h := &Handler{Exec: Exec{
		Store:  st,
		Limits: Limits{MaxKeySize: testMaxKey, MaxValueSize: testMaxValue},
		Stats: func(w io.Writer) error {
			_, err := io.WriteString(w, `{"ok":true}`)
			return err
		},
	}}
	return h, st
}

// TestHandlerDone checks that Done sees each request's operation and
// status after its answer is written.
func TestHandlerDone(t *testing.T) {
	h, _ := newTestHandler(t)
	var got []Result
	h.Done = func(r *http.Request, res *Result) { got = append(got, *res) }
	for _, target := range []string{"/get/k", "/get/missing", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), newRequest("GET", target, ""))
	}
	want := []struct {
		op     Op
		status int
	}{{OpGet, 200}, {OpGet, 404}, {OpNone, 404}}
	if len(got) != len(want) {
		t.Fatalf("Done called %d times for 3 requests", len(got))
	}
	for i, w := range want {
		if got[i].Op != w.op || got[i].Status != w.status {
			t.Errorf("request %d: Done saw op %v status %d, want op %v status %d", i, got[i].Op, got[i].Status, w.op, w.status)
		}
	}
}

// newRequest returns a request for the handler, which routes on
// RequestURI, set here as sent. httptest.NewRequest would refuse a target
// with a bad escape, as net/http's server does before any handler runs;
// setting RequestURI reaches the handler's own check.
func newRequest(method, target, body string) *http.Request {
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.RequestURI = target
	return req
}

// probeKeys are the keys whose values TestHandler checks after each request.
var probeKeys = []string{"k", "new", "a/b", "big", "empty"}

func TestHandler(t *testing.T) {
	unchanged := map[string]string{"k": "v"}
	tests := []struct {
		name, method, target string
		body                 string
		chunked              bool // send the body with no Content-Length
		contentLength0       bool // send "Content-Length: 0" with no body
		wantStatus           int
		wantBody             string // "" means not checked
		wantHeader           map[string]string
		wantStore            map[string]string // values of probeKeys afterwards
	}{
		{name: "hello", method: "GET", target: "/", wantStatus: 200, wantBody: Hello, wantStore: unchanged},
		{name: "hello head", method: "HEAD", target: "/", wantStatus: 200,
			wantHeader: map[string]string{"Content-Length": "13"}, wantStore: unchanged},
		{name: "get", method: "GET", target: "/get/k", wantStatus: 200, wantBody: "v",
			wantHeader: map[string]string{"Content-Type": "application/octet-stream"}, wantStore: unchanged},
		{name: "get head", method: "HEAD", target: "/get/k", wantStatus: 200,
			wantHeader: map[string]string{"Content-Length": "1"}, wantStore: unchanged},
		{name: "get with query", method: "GET", target: "/get/k?x=1", wantStatus: 200, wantBody: "v", wantStore: unchanged},
		{name: "get absolute form", method: "GET", target: "http://example.com/get/k", wantStatus: 200, wantBody: "v", wantStore: unchanged},
		{name: "stats", method: "GET", target: "/stats", wantStatus: 200, wantBody: `{"ok":true}`,
			wantHeader: map[string]string{"Content-Type": "application/json"}, wantStore: unchanged},
		{name: "missing key", method: "GET", target: "/get/nope", wantStatus: 404, wantBody: ErrNoKey.Msg + "\n", wantStore: unchanged},
		{name: "no route", method: "GET", target: "/nope", wantStatus: 404, wantBody: ErrNoRoute.Msg + "\n", wantStore: unchanged},
		{name: "two segments", method: "PUT", target: "/store/a/b", body: "x", wantStatus: 404, wantStore: unchanged},
		{name: "method on get", method: "DELETE", target: "/get/k", wantStatus: 405, wantBody: ErrMethod.Msg + "\n",
			wantHeader: map[string]string{"Allow": allowGet}, wantStore: unchanged},
		{name: "method on store", method: "GET", target: "/store/k", wantStatus: 405,
			wantHeader: map[string]string{"Allow": allowStore}, wantStore: unchanged},
		{name: "method on hello", method: "POST", target: "/", body: "x", wantStatus: 405,
			wantHeader: map[string]string{"Allow": allowHello}, wantStore: unchanged},
		{name: "no length", method: "POST", target: "/store/new", wantStatus: 411, wantBody: ErrNoLength.Msg + "\n", wantStore: unchanged},
		{name: "too large", method: "POST", target: "/store/new", body: strings.Repeat("x", testMaxValue+1), wantStatus: 413,
			wantBody: ErrValueTooLarge.Msg + "\n", wantHeader: map[string]string{"Connection": "close"}, wantStore: unchanged},
		{name: "too large chunked", method: "POST", target: "/store/new", body: strings.Repeat("x", testMaxValue+1), chunked: true,
			wantStatus: 413, wantHeader: map[string]string{"Connection": "close"}, wantStore: unchanged},
		{name: "replace too large", method: "PUT", target: "/store/k", body: strings.Repeat("x", testMaxValue+1), wantStatus: 413, wantStore: unchanged},
		{name: "bad escape", method: "POST", target: "/store/%zz", body: "x", wantStatus: 400, wantBody: ErrBadEscape.Msg + "\n", wantStore: unchanged},
		{name: "bad escape on get", method: "GET", target: "/get/%4", wantStatus: 400, wantStore: unchanged},
		{name: "empty key", method: "PUT", target: "/store/", body: "x", wantStatus: 400, wantBody: ErrEmptyKey.Msg + "\n", wantStore: unchanged},
		{name: "key too long", method: "PUT", target: "/store/" + strings.Repeat("a", testMaxKey+1), body: "x", wantStatus: 414, wantStore: unchanged},
		{name: "escaped key too long", method: "GET", target: "/get/" + strings.Repeat("%61", testMaxKey+1), wantStatus: 414, wantStore: unchanged},
		{name: "store full", method: "POST", target: "/store/big", body: strings.Repeat("x", testMaxValue), wantStatus: 507,
			wantBody: ErrStoreFull.Msg + "\n", wantStore: unchanged},
		{name: "set", method: "POST", target: "/store/new", body: "hello", wantStatus: 200, wantBody: Stored,
			wantStore: map[string]string{"k": "v", "new": "hello"}},
		{name: "set with ttl", method: "POST", target: "/store/new?ttl=30", body: "hello", wantStatus: 200,
			wantStore: map[string]string{"k": "v", "new": "hello"}},
		{name: "bad ttl", method: "PUT", target: "/store/k?ttl=-5", body: "w", wantStatus: 400,
			wantBody: ErrBadTTL.Msg + "\n", wantStore: unchanged},
		{name: "ttl past ten years", method: "PUT", target: "/store/new?ttl=999999999", body: "w", wantStatus: 400, wantStore: unchanged},
		{name: "set escaped slash", method: "PUT", target: "/store/a%2Fb", body: "x", wantStatus: 200,
			wantStore: map[string]string{"k": "v", "a/b": "x"}},
		{name: "replace chunked", method: "PUT", target: "/store/k", body: "vv", chunked: true, wantStatus: 200,
			wantStore: map[string]string{"k": "vv"}},
		{name: "set empty value", method: "PUT", target: "/store/empty", contentLength0: true, wantStatus: 200,
			wantStore: map[string]string{"k": "v", "empty": ""}},
		{name: "delete", method: "DELETE", target: "/store/k", wantStatus: 204, wantStore: map[string]string{}},
		{name: "delete missing", method: "DELETE", target: "/store/nope", wantStatus: 404, wantBody: ErrNoKey.Msg + "\n", wantStore: unchanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st := newTestHandler(t)
			req := newRequest(tc.method, tc.target, tc.body)
			switch {
			case tc.chunked:
				req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
			case tc.contentLength0:
				req.Header.Set("Content-Length", "0")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != tc.wantStatus {
				t.Errorf("%s %s: status = %d, want %d (body %q)", tc.method, tc.target, res.StatusCode, tc.wantStatus, rec.Body)
			}
			if tc.wantBody != "" && rec.Body.String() != tc.wantBody {
				t.Errorf("%s %s: body = %q, want %q", tc.method, tc.target, rec.Body, tc.wantBody)
			}
			for k, want := range tc.wantHeader {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s %s: header %s = %q, want %q", tc.method, tc.target, k, got, want)
				}
			}
			for _, k := range probeKeys {
				v, _, ok := st.Get(nil, []byte(k))
				want, wantOK := tc.wantStore[k]
				if ok != wantOK || string(v) != want {
					t.Errorf("%s %s: then Get(%q) = %q, %v, want %q, %v", tc.method, tc.target, k, v, ok, want, wantOK)
				}
			}
		})
	}
}

// TestHandlerMaxAge checks that a GET of a value stored with a ttl
// carries Cache-Control: max-age, and one without a ttl none.
func TestHandlerMaxAge(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest("PUT", "/store/t?ttl=90", "x"))
	if rec.Code != 200 {
		t.Fatalf("PUT ?ttl=90 = %d", rec.Code)
	}
	for key, want := range map[string]string{"t": "max-age=90", "k": ""} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest("GET", "/get/"+key, ""))
		if got := rec.Header().Get("Cache-Control"); got != want {
			t.Errorf("GET /get/%s: Cache-Control %q, want %q", key, got, want)
		}
	}
}

// TestHandlerSurvivesBadRequests sends every kind of refused request to
// one store in turn and checks that what was stored before is still there.
func TestHandlerSurvivesBadRequests(t *testing.T) {
	h, st := newTestHandler(t)
	bad := []struct {
		method, target, body string
		want                 int
	}{
		{"PUT", "/store/k", strings.Repeat("x", testMaxValue+1), 413},
		{"PUT", "/store/%zz", "x", 400},
		{"PUT", "/store/", "x", 400},
		{"PUT", "/store/" + strings.Repeat("a", testMaxKey+1), "x", 414},
		{"POST", "/store/big", strings.Repeat("x", testMaxValue), 507},
		{"GET", "/store/k", "", 405},
		{"POST", "/store/k", "", 411},
		{"DELETE", "/get/k", "", 405},
		{"DELETE", "/nope", "", 404},
	}
	for _, b := range bad {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(b.method, b.target, b.body))
		if rec.Code != b.want {
			t.Errorf("%s %s: status = %d, want %d", b.method, b.target, rec.Code, b.want)
		}
	}
	if v, _, ok := st.Get(nil, []byte("k")); !ok || string(v) != "v" || st.Len() != 1 || st.Bytes() != 2 {
		t.Errorf("after refused requests: Get(k) = %q, %v; Len() = %d, Bytes() = %d; want \"v\", true, 1, 2",
			v, ok, st.Len(), st.Bytes())
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest("GET", "/get/k", ""))
	if rec.Code != http.StatusOK || rec.Body.String() != "v" {
		t.Errorf("GET /get/k after refused requests = %d %q, want 200 \"v\"", rec.Code, rec.Body)
	}
}
