// Package api defines corekv's HTTP API: its routes, how a key is read from
// a path, which status answers which mistake, and what each operation does
// (Exec.Do), whatever the protocol. Handler serves it with net/http; the
// event loop's HTTP/1.1 code encodes the same Results without allocating.
package api

import (
	"net/http"
	"strings"
)

// Default limits.
const (
	DefaultMaxKeySize   = 1024    // bytes of a decoded key
	DefaultMaxValueSize = 1 << 20 // bytes of a stored value
)

// Limits bounds what one request may carry. The zero value means the
// defaults above.
type Limits struct {
	// MaxKeySize is the longest key in bytes, after percent-decoding.
	// A longer key is answered 414. Default 1024.
	MaxKeySize int
	// MaxValueSize is the largest value in bytes. A larger body is answered
	// 413 and is not stored. Default 1 MiB.
	MaxValueSize int
}

// WithDefaults returns l with zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxKeySize <= 0 {
		l.MaxKeySize = DefaultMaxKeySize
	}
	if l.MaxValueSize <= 0 {
		l.MaxValueSize = DefaultMaxValueSize
	}
	return l
}

// Op is what a request asks for.
type Op uint8

// The operations of the API.
const (
	OpNone   Op = iota // the request matched no operation; the request was refused before any operation
	OpHello            // GET / : the greeting
	OpGet              // GET /get/{key}
	OpHead             // HEAD /get/{key}
	OpSet              // POST or PUT /store/{key}
	OpDelete           // DELETE /store/{key}
	OpStats            // GET /stats
)

// HasKey reports whether the operation names a key.
func (o Op) HasKey() bool { return o >= OpGet && o <= OpDelete }

// Hello is the body of GET /.
const Hello = "Hello, World!"

// Allow values sent with 405 answers.
const (
	allowHello = "GET, HEAD"
	allowGet   = "GET, HEAD"
	allowStore = "POST, PUT, DELETE"
	allowStats = "GET, HEAD"
)

// route is the outcome of matching a request line.
type route struct {
	Op Op
	// Head is true for a HEAD request: answer as GET, without the body.
	Head bool
	// Key is the key's path segment as sent, still percent-encoded. Use
	// appendKey to get the key itself.
	Key string
	// Status is the error status when Op is OpNone: 404 or 405.
	Status int
	// Allow lists the methods of the route for a 405 answer.
	Allow string
}

// match maps a method and a request path (no query, no fragment: see
// splitTarget) to a route. It does not allocate.
func match(method, path string) route {
	switch {
	case path == "/":
		return byMethod(method, "", allowHello, OpHello, OpHello, OpNone, OpNone)
	case path == "/stats":
		return byMethod(method, "", allowStats, OpStats, OpStats, OpNone, OpNone)
	case strings.HasPrefix(path, "/get/"):
		key := path[len("/get/"):]
		if strings.IndexByte(key, '/') >= 0 {
			return route{Status: http.StatusNotFound}
		}
		return byMethod(method, key, allowGet, OpGet, OpHead, OpNone, OpNone)
	case strings.HasPrefix(path, "/store/"):
		key := path[len("/store/"):]
		if strings.IndexByte(key, '/') >= 0 {
			return route{Status: http.StatusNotFound}
		}
		return byMethod(method, key, allowStore, OpNone, OpNone, OpSet, OpDelete)
	}
	return route{Status: http.StatusNotFound}
}

// byMethod picks the operation of a route for a method; an operation of
// OpNone means the route does not take that method.
func byMethod(method, key, allow string, get, head, set, del Op) route {
	op, isHead := OpNone, false
	switch method {
	case "GET":
		op = get
	case "HEAD":
		op, isHead = head, true
	case "POST", "PUT":
		op = set
	case "DELETE":
		op = del
	}
	if op == OpNone {
		return route{Status: http.StatusMethodNotAllowed, Allow: allow}
	}
	if op == OpHello || op == OpStats {
		return route{Op: op, Head: isHead}
	}
	return route{Op: op, Head: isHead, Key: key}
}

// splitTarget returns the path of an origin-form request target: the part
// before any '?' or '#'.
func splitTarget(target string) string {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		return target[:i]
	}
	return target
}
