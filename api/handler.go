package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Handler serves the API with net/http, for the std engine and for HTTP/2
// streams of both engines: it calls Exec.Do and encodes the Result.
type Handler struct {
	Exec
	// Done, if set, is called with each request and its result once the
	// answer is written (to net/http's buffers): to count it.
	Done func(r *http.Request, res *Result)
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var key [64]byte
	req := Request{
		Method: r.Method,
		Target: origin(r.RequestURI),
		Unframed: r.ProtoMajor == 1 && r.ContentLength == 0 && len(r.TransferEncoding) == 0 &&
			r.Header.Get("Content-Length") == "",
		Body: httpBody{r},
	}
	res := h.Do(&req, key[:0])
	hdr := w.Header()
	if res.Allow != "" {
		hdr.Set("Allow", res.Allow)
	}
	if res.Close && r.ProtoMajor == 1 {
		// The unread rest of a refused body would otherwise be taken as
		// the next request.
		hdr.Set("Connection", "close")
	}
	if res.ContentType != "" {
		hdr["Content-Type"] = []string{res.ContentType}
		hdr["Content-Length"] = []string{strconv.Itoa(res.Len())}
	}
	if res.MaxAge > 0 {
		hdr["Cache-Control"] = []string{"max-age=" + strconv.FormatInt(res.MaxAge, 10)}
	}
	w.WriteHeader(res.Status)
	io.WriteString(w, res.Text)
	if res.Problem != nil {
		io.WriteString(w, res.Problem.Msg+"\n")
	}
	w.Write(res.Value)
	if h.Done != nil {
		h.Done(r, &res)
	}
}

// origin returns a request target in origin form. net/http leaves an
// absolute-form target (http://host/path?query) in RequestURI as sent;
// net/url takes it apart.
func origin(target string) string {
	if target == "" || target[0] == '/' {
		return target
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "" {
		return target
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		path += "?" + u.RawQuery
	}
	return path
}

// httpBody is the body of a net/http request.
type httpBody struct{ r *http.Request }

func (b httpBody) Value(max int) ([]byte, error) {
	if b.r.ContentLength > int64(max) {
		return nil, ErrValueTooLarge
	}
	v, err := ReadValue(b.r, max)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return nil, ErrValueTooLarge
	}
	return v, err
}

// Stored is the body of a successful store.
const Stored = "OK\n"

// ReadValue reads the whole body of r, at most max bytes, into a new
// slice; a longer body is an *http.MaxBytesError.
func ReadValue(r *http.Request, max int) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > int64(max) {
		n = 512
	}
	v := make([]byte, 0, n)
	body := http.MaxBytesReader(nil, r.Body, int64(max))
	for {
		if len(v) == cap(v) {
			v = append(v, 0)[:len(v)]
		}
		m, err := body.Read(v[len(v):cap(v)])
		v = v[:len(v)+m]
		if err == io.EOF {
			return v, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
