package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/corekv/corekv/api"
)

func TestOutResult(t *testing.T) {
	date := []byte("Tue, 14 Nov 2023 22:13:20 GMT")
	method405 := api.Refusal(api.ErrMethod)
	method405.Allow = "GET, HEAD"
	tests := []struct {
		name       string
		res        api.Result
		f          Framing
		method     string
		wantStatus string
		wantBody   string
		wantHeader map[string]string
	}{
		{"value", api.Result{Status: 200, ContentType: api.TypeValue, Value: []byte("stored")}, Framing{KeepAlive: true}, "GET",
			"200 OK", "stored", map[string]string{"Content-Length": "6", "Content-Type": api.TypeValue, "Connection": ""}},
		{"head", api.Result{Status: 200, ContentType: api.TypeValue, Head: true, Value: []byte("stored")}, Framing{KeepAlive: true}, "HEAD",
			"200 OK", "", map[string]string{"Content-Length": "6"}},
		{"refusal with allow", method405, Framing{KeepAlive: true, HTTP10: true}, "GET",
			"405 Method Not Allowed", api.ErrMethod.Msg + "\n", map[string]string{"Allow": "GET, HEAD", "Connection": "keep-alive"}},
		{"no content, closing", api.Result{Status: 204}, Framing{}, "DELETE",
			"204 No Content", "", map[string]string{"Content-Length": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Out
			o.Result(&tc.res, date, tc.f)
			out := o.BytesFrom(0)
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), &http.Request{Method: tc.method})
			if err != nil {
				t.Fatalf("Result(%+v) wrote %q: %v", tc.res, out, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.Status != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("Result(%+v) = %q %q, want %q %q", tc.res, resp.Status, body, tc.wantStatus, tc.wantBody)
			}
			for k, want := range tc.wantHeader {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("Result(%+v): header %s = %q, want %q", tc.res, k, got, want)
				}
			}
			if resp.Close != !tc.f.KeepAlive {
				t.Errorf("Result(%+v): the response closes the connection: %v, want %v", tc.res, resp.Close, !tc.f.KeepAlive)
			}
			if got := resp.Header.Get("Date"); got != string(date) {
				t.Errorf("Result(%+v): Date = %q, want %q", tc.res, got, date)
			}
		})
	}
}
