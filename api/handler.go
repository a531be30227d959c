package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/corekv/corekv/store"
)

// Handler serves the API with net/http, for the std engine and for HTTP/2
// streams of both engines.
type Handler struct {
	Store  store.Store
	Limits Limits // zero fields mean the defaults
	// Stats writes the JSON document served at /stats.
	Stats func(w io.Writer) error
}

// ServeHTTP answers one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lim := h.Limits.WithDefaults()
	rt := Match(r.Method, SplitTarget(OriginPath(r.RequestURI)))
	if rt.Op == OpNone {
		if rt.Status == 405 {
			w.Header().Set("Allow", rt.Allow)
			writeProblem(w, ErrMethod)
			return
		}
		writeProblem(w, ErrNoRoute)
		return
	}
	var keyBuf [64]byte
	var key []byte
	if rt.Op.HasKey() {
		var p *Problem
		if key, p = AppendKey(keyBuf[:0], rt.Key, lim.MaxKeySize); p != nil {
			writeProblem(w, p)
			return
		}
	}
	switch rt.Op {
	case OpHello:
		writeBody(w, 200, "text/plain; charset=utf-8", []byte(Hello))
	case OpStats:
		var b bytes.Buffer
		if err := h.Stats(&b); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		writeBody(w, 200, "application/json", b.Bytes())
	case OpGet, OpHead:
		v, ok := h.Store.Get(key)
		if !ok {
			writeProblem(w, ErrNoKey)
			return
		}
		writeBody(w, 200, "application/octet-stream", v)
	case OpSet:
		h.set(w, r, key, lim)
	case OpDelete:
		if !h.Store.Delete(key) {
			writeProblem(w, ErrNoKey)
			return
		}
		w.WriteHeader(204)
	}
}

func (h *Handler) set(w http.ResponseWriter, r *http.Request, key []byte, lim Limits) {
	if r.ProtoMajor == 1 && r.ContentLength == 0 && len(r.TransferEncoding) == 0 &&
		r.Header.Get("Content-Length") == "" {
		writeProblem(w, ErrNoLength)
		return
	}
	if r.ContentLength > int64(lim.MaxValueSize) {
		closeAfter(w, r)
		writeProblem(w, ErrValueTooLarge)
		return
	}
	v, err := readValue(r, lim.MaxValueSize)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			closeAfter(w, r)
			writeProblem(w, ErrValueTooLarge)
			return
		}
		closeAfter(w, r)
		writeProblem(w, &Problem{400, "cannot read body: " + err.Error()})
		return
	}
	if err := h.Store.Set(key, v); err != nil {
		if errors.Is(err, store.ErrFull) {
			writeProblem(w, ErrStoreFull)
			return
		}
		http.Error(w, err.Error(), 500)
		return
	}
	writeBody(w, 200, "text/plain; charset=utf-8", []byte(Stored))
}

// Stored is the body of a successful store.
const Stored = "OK\n"

// readValue reads the whole body into a new slice that the store will own.
func readValue(r *http.Request, max int) ([]byte, error) {
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

// closeAfter asks net/http to close an HTTP/1 connection after the answer:
// the unread rest of a refused body would otherwise be taken as the next
// request.
func closeAfter(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

func writeBody(w http.ResponseWriter, status int, ctype string, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{ctype}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	writeBody(w, p.Status, "text/plain; charset=utf-8", []byte(p.Msg+"\n"))
}

// OriginPath turns an absolute-form request target (http://host/path) into
// its path; other targets are returned as they are.
func OriginPath(target string) string {
	if len(target) == 0 || target[0] == '/' {
		return target
	}
	for _, scheme := range [...]string{"http://", "https://"} {
		if len(target) >= len(scheme) && equalFold(target[:len(scheme)], scheme) {
			rest := target[len(scheme):]
			for i := 0; i < len(rest); i++ {
				if rest[i] == '/' {
					return rest[i:]
				}
				if rest[i] == '?' {
					return "/" + rest[i:]
				}
			}
			return "/"
		}
	}
	return target
}

func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}
