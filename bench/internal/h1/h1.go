// Package h1 is the HTTP/1.1 of a load generator: requests are appended
// to a caller's buffer, so that a batch goes out in one write, and
// responses are parsed straight out of a non-blocking reader's buffer,
// without allocating.
//
// It handles what a key-value server answers: a status line, headers of
// which it reads Content-Length, Transfer-Encoding: chunked and
// Connection: close, and the body. Responses without a length (read until
// close) are refused, as they cannot be pipelined.
package h1

import (
	"errors"
	"strconv"
)

// AppendGet appends GET /get/{key} to b.
func AppendGet(b []byte, host string, key []byte) []byte {
	b = append(b, "GET /get/"...)
	b = append(b, key...)
	return appendHead(b, host)
}

// AppendStoreHead appends the request line and headers of a
// POST /store/{key} with a body of n bytes; the caller appends the body.
func AppendStoreHead(b []byte, host string, key []byte, n int) []byte {
	b = append(b, "POST /store/"...)
	b = append(b, key...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n\r\n"...)
}

func appendHead(b []byte, host string) []byte {
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	return append(b, "\r\n\r\n"...)
}

// Response is one parsed response.
type Response struct {
	Status int
	Body   []byte
	// Close reports that the server will close the connection after it.
	Close bool
}

// ParseError describes a response the Reader cannot parse.
type ParseError struct {
	Msg  string
	Line string // the offending line, if any, without its line break
}

func (e *ParseError) Error() string {
	if e.Line == "" {
		return "h1: " + e.Msg
	}
	return "h1: " + e.Msg + " in " + strconv.Quote(e.Line)
}

// ErrNoLength is the error for a response whose body runs until the
// connection closes, which a pipelining client cannot delimit.
var ErrNoLength = errors.New("h1: response has neither Content-Length nor chunked encoding")
