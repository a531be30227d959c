package api

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/corekv/corekv/store"
)

// fixedBody is a Body that returns a fixed value or error.
type fixedBody struct {
	v   []byte
	err error
}

func (b *fixedBody) Value(int) ([]byte, error) { return b.v, b.err }

func newTestExec(t testing.TB) *Exec {
	t.Helper()
	st := store.NewLockFree(store.Config{Presize: 16, MaxBytes: testMaxBytes})
	if err := st.Set([]byte("k"), []byte("v")); err != nil {
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
			Result{Status: http.StatusOK, ContentType: TypeValue, Value: []byte("v")}},
		{"head", Request{Method: "HEAD", Target: "/get/k?x"},
			Result{Status: http.StatusOK, ContentType: TypeValue, Head: true, Value: []byte("v")}},
		{"head missing", Request{Method: "HEAD", Target: "/get/nope"},
			Result{Status: http.StatusNotFound, ContentType: TypeText, Head: true, Problem: ErrNoKey}},
		{"method", Request{Method: "HEAD", Target: "/store/k"},
			Result{Status: http.StatusMethodNotAllowed, ContentType: TypeText, Allow: allowStore, Head: true, Problem: ErrMethod}},
		{"unframed store", Request{Method: "PUT", Target: "/store/k", Unframed: true},
			Result{Status: http.StatusLengthRequired, ContentType: TypeText, Problem: ErrNoLength}},
		{"body too large", Request{Method: "PUT", Target: "/store/k", Body: &fixedBody{err: ErrValueTooLarge}},
			Result{Status: http.StatusRequestEntityTooLarge, ContentType: TypeText, Close: true, Problem: ErrValueTooLarge}},
		{"body unreadable", Request{Method: "PUT", Target: "/store/k", Body: &fixedBody{err: io.ErrUnexpectedEOF}},
			Result{Status: http.StatusBadRequest, ContentType: TypeText, Close: true, Problem: ErrBadBody}},
		{"stats failing", Request{Method: "GET", Target: "/stats"},
			Result{Status: http.StatusInternalServerError, ContentType: TypeText, Problem: ErrInternal}},
		{"delete", Request{Method: "DELETE", Target: "/store/k"}, Result{Status: http.StatusNoContent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newTestExec(t)
			var logged int
			x.Logf = func(string, ...any) { logged++ }
			got := x.Do(&tc.req, nil)
			if got.Status != tc.want.Status || got.ContentType != tc.want.ContentType || got.Allow != tc.want.Allow ||
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
// answer without allocating, and the value is the stored slice itself.
func TestDoAllocs(t *testing.T) {
	x := newTestExec(t)
	stored, _ := x.Store.Get([]byte("k"))
	key := make([]byte, 0, testMaxKey)
	for _, req := range []Request{
		{Method: "GET", Target: "/get/k"},
		{Method: "HEAD", Target: "/get/k"},
		{Method: "GET", Target: "/"},
	} {
		var res Result
		allocs := testing.AllocsPerRun(100, func() { res = x.Do(&req, key) })
		if allocs != 0 {
			t.Errorf("Do(%s %s) allocates %.1f times per run, want 0", req.Method, req.Target, allocs)
		}
		if req.Target == "/get/k" && &res.Value[0] != &stored[0] {
			t.Errorf("Do(%s %s) copied the value, want the stored slice", req.Method, req.Target)
		}
	}
}
