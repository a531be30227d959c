package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/corekv/corekv/store"
)

// fixedBody is a Body that returns a fixed value or error.
type fixedBody struct {
	v   []byte
	err error
}

func (b *fixedBody) Value(int) ([]byte, error) { return b.v, b.err }

// newTestStore returns a store that refuses (507) past testMaxBytes.
func newTestStore(t testing.TB) *store.Cache {
	t.Helper()
	st, err := store.New(store.Config{MaxBytes: testMaxBytes, Eviction: store.EvictNone, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newTestExec(t testing.TB) *Exec {
	t.Helper()
	st := newTestStore(t)
	if err := st.Set([]byte("k"), []byte("v"), 0); err != nil {
		t.Fatalf("Set(k, v) = %v", err)
	}
	return &Exec{
		Store:  st,
		Limits: Limits{MaxKeySize: testMaxKey, MaxValueSize: testMaxValue},
		Stats:  func(w io.Writer) error { return errors.New("disk on fire") },
	}
}

func TestDo(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want Result
	}{
		{"get", Request{Method: "GET", Target: "/get/k"},
			Result{Op: OpGet, Status: http.StatusOK, ContentType: TypeValue, Value: []byte("v")}},
		{"head", Request{Method: "HEAD", Target: "/get/k?x"},
			Result{Op: OpHead, Status: http.StatusOK, ContentType: TypeValue, Head: true, Value: []byte("v")}},
		{"head missing", Request{Method: "HEAD", Target: "/get/nope"},
			Result{Op: OpHead, Status: http.StatusNotFound, ContentType: TypeText, Head: true, Problem: ErrNoKey}},
		{"method", Request{Method: "HEAD", Target: "/store/k"},
			Result{Status: http.StatusMethodNotAllowed, ContentType: TypeText, Allow: allowStore, Head: true, Problem: ErrMethod}},
		{"unframed store", Request{Method: "PUT", Target: "/store/k", Unframed: true},
			Result{Op: OpSet, Status: http.StatusLengthRequired, ContentType: TypeText, Problem: ErrNoLength}},
		{"body too large", Request{Method: "PUT", Target: "/store/k", Body: &fixedBody{err: ErrValueTooLarge}},
			Result{Op: OpSet, Status: http.StatusRequestEntityTooLarge, ContentType: TypeText, Close: true, Problem: ErrValueTooLarge}},
		{"body unreadable", Request{Method: "PUT", Target: "/store/k", Body: &fixedBody{err: io.ErrUnexpectedEOF}},
			Result{Op: OpSet, Status: http.StatusBadRequest, ContentType: TypeText, Close: true, Problem: ErrBadBody}},
		{"stats failing", Request{Method: "GET", Target: "/stats"},
			Result{Op: OpStats, Status: http.StatusInternalServerError, ContentType: TypeText, Problem: ErrInternal}},
		{"delete", Request{Method: "DELETE", Target: "/store/k"}, Result{Op: OpDelete, Status: http.StatusNoContent}},
		{"bad key", Request{Method: "GET", Target: "/get/%zz"},
			Result{Op: OpGet, Status: http.StatusBadRequest, ContentType: TypeText, Problem: ErrBadEscape}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newTestExec(t)
			var logged int
			x.Logf = func(string, ...any) { logged++ }
			got := x.Do(&tc.req, nil)
			if got.Op != tc.want.Op || got.Status != tc.want.Status || got.ContentType != tc.want.ContentType || got.Allow != tc.want.Allow ||
				got.Head != tc.want.Head || got.Close != tc.want.Close || got.Text != tc.want.Text ||
				got.Problem != tc.want.Problem || string(got.Value) != string(tc.want.Value) {
				t.Errorf("Do(%+v) = %+v, want %+v", tc.req, got, tc.want)
			}
			if wantLog := tc.want.Status == http.StatusInternalServerError || tc.want.Problem == ErrBadBody; (logged > 0) != wantLog {
				t.Errorf("Do(%+v) logged %d lines, want some: %v", tc.req, logged, wantLog)
			}
		})
	}
}

// TestDoAllocs guards the loop's hot path: a GET hit, a HEAD and GET /
// answer without allocating, and through a Shard the value is the stored
// bytes themselves; without one it is a copy.
func TestDoAllocs(t *testing.T) {
	x := newTestExec(t)
	sh := x.Store.NewShard(-1)
	stored, _, _ := sh.Get([]byte("k"))
	key := make([]byte, 0, testMaxKey)
	for _, req := range []Request{
		{Method: "GET", Target: "/get/k", Shard: sh},
		{Method: "HEAD", Target: "/get/k", Shard: sh},
		{Method: "GET", Target: "/", Shard: sh},
	} {
		var res Result
		allocs := testing.AllocsPerRun(100, func() { res = x.Do(&req, key) })
		if allocs != 0 {
			t.Errorf("Do(%s %s) allocates %.1f times per run, want 0", req.Method, req.Target, allocs)
		}
		if req.Target == "/get/k" && &res.Value[0] != &stored[0] {
			t.Errorf("Do(%s %s) through a Shard copied the value, want the stored bytes", req.Method, req.Target)
		}
	}
	res := x.Do(&Request{Method: "GET", Target: "/get/k"}, key)
	if string(res.Value) != "v" || &res.Value[0] == &stored[0] {
		t.Errorf("Do(GET /get/k) without a Shard = %q at %p, want a copy of %q", res.Value, res.Value, stored)
	}
}

// sizedBody is a SizedBody, as the event loop's bodies are.
type sizedBody struct{ v []byte }

func (b *sizedBody) Value(int) ([]byte, error) { return nil, errors.New("sizedBody: Value called") }
func (b *sizedBody) Size() int                 { return len(b.v) }
func (b *sizedBody) DecodeTo(dst []byte)       { copy(dst, b.v) }

// TestDoTTL stores with and without ttl, through a Shard and without one,
// and checks what GET answers, and that a bad ttl stores nothing.
func TestDoTTL(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		defaultTTL time.Duration
		status     int
		maxAge     int64 // on the GET that follows; -1: the GET misses
	}{
		{"no ttl", "/store/a", 0, 200, 0},
		{"ttl", "/store/a?ttl=60", 0, 200, 60},
		{"ttl among other parameters", "/store/a?x=1&ttl=5&y", 0, 200, 5},
		{"default ttl", "/store/a", time.Minute, 200, 60},
		{"ttl=0 overrides the default", "/store/a?ttl=0", time.Minute, 200, 0},
		{"ten years", "/store/a?ttl=315360000", 0, 200, 315360000},
		{"past ten years", "/store/a?ttl=315360001", 0, 400, -1},
		{"negative", "/store/a?ttl=-1", 0, 400, -1},
		{"not a number", "/store/a?ttl=1m", 0, 400, -1},
		{"empty", "/store/a?ttl=", 0, 400, -1},
		{"no value", "/store/a?ttl", 0, 400, -1},
		{"fraction", "/store/a?ttl=1.5", 0, 400, -1},
	}
	for _, sharded := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("shard=%v/%s", sharded, tc.name), func(t *testing.T) {
				x := newTestExec(t)
				x.DefaultTTL = tc.defaultTTL
				var sh *store.Shard
				if sharded {
					sh = x.Store.NewShard(-1)
				}
				req := Request{Method: "PUT", Target: tc.target, Body: &fixedBody{v: []byte("1")}, Shard: sh}
				if sharded {
					req.Body = &sizedBody{[]byte("1")}
				}
				if got := x.Do(&req, nil); got.Status != tc.status {
					t.Fatalf("Do(PUT %s) = %d %v, want %d", tc.target, got.Status, got.Problem, tc.status)
				}
				got := x.Do(&Request{Method: "GET", Target: "/get/a", Shard: sh}, nil)
				switch {
				case tc.maxAge < 0 && got.Status != http.StatusNotFound:
					t.Errorf("GET after a refused PUT = %d %q, want 404: something was stored", got.Status, got.Value)
				case tc.maxAge >= 0 && (got.Status != 200 || string(got.Value) != "1" || got.MaxAge != tc.maxAge):
					t.Errorf("GET = %d %q max-age %d, want 200 \"1\" max-age %d", got.Status, got.Value, got.MaxAge, tc.maxAge)
				}
			})
		}
	}
}

// TestDoStoreErrors maps the store's refusals to statuses.
func TestDoStoreErrors(t *testing.T) {
	x := newTestExec(t)
	sh := x.Store.NewShard(-1)
	big := &sizedBody{make([]byte, testMaxValue)}
	got := x.Do(&Request{Method: "PUT", Target: "/store/kk", Body: big, Shard: sh}, nil)
	if got.Status != http.StatusInsufficientStorage {
		t.Errorf("PUT past the store's limit = %d, want 507", got.Status)
	}
	if v, _, ok := sh.Get([]byte("k")); !ok || string(v) != "v" {
		t.Errorf("after a refused PUT, k = %q, %v; want v", v, ok)
	}
}
