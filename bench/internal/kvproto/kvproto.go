// Package kvproto speaks the request and reply protocols of three caches
// over one pipelined connection: memcached's text protocol, Redis's RESP
// and corekv's HTTP/1.1 API. A batch of GETs and SETs goes out in one
// write, and its replies are read back in order.
package kvproto

import (
	"errors"
	"fmt"
)

// Op is a request's kind.
type Op uint8

// The requests a cache-aside client sends.
const (
	Get Op = iota
	Set
)

func (o Op) String() string {
	if o == Set {
		return "SET"
	}
	return "GET"
}

// Outcome is what a reply says.
type Outcome uint8

// The outcomes: a GET hits or misses; a SET is stored, or refused for
// lack of memory (memcached's SERVER_ERROR out of memory, Redis's -OOM,
// corekv's 507).
const (
	Hit Outcome = iota
	Miss
	Stored
	NotStored
)

func (o Outcome) String() string {
	switch o {
	case Hit:
		return "hit"
	case Miss:
		return "miss"
	case Stored:
		return "stored"
	default:
		return "not stored"
	}
}

// Reply is one parsed reply.
type Reply struct {
	Outcome Outcome
	// Value is a hit's value. It aliases the read buffer: valid only
	// until the callback that receives it returns.
	Value []byte
	// Detail is the server's own words for a NotStored.
	Detail string
}

// Protocol formats requests and parses replies.
type Protocol interface {
	// Name names the protocol in errors.
	Name() string
	// AppendGet appends a GET of key to b.
	AppendGet(b, key []byte) []byte
	// AppendSet appends a SET of key to value to b.
	AppendSet(b, key, value []byte) []byte
	// Parse parses the reply to op at the start of b and returns it with
	// the number of bytes it took. It returns ErrIncomplete when b holds
	// only part of it; any other error means the stream is broken.
	Parse(op Op, b []byte) (Reply, int, error)
}

// ErrIncomplete is Parse's answer when b holds only the start of a reply.
var ErrIncomplete = errors.New("kvproto: incomplete reply")

// ReplyError is a reply that is not an answer to the request it follows:
// a server error, a status the client does not expect, or bad syntax.
type ReplyError struct {
	Proto string // the protocol
	Op    Op     // the request answered
	Msg   string // what is wrong
	Line  string // the offending line, if any
}

func (e *ReplyError) Error() string {
	s := fmt.Sprintf("kvproto: %s reply to %s: %s", e.Proto, e.Op, e.Msg)
	if e.Line != "" {
		s += fmt.Sprintf(" in %q", e.Line)
	}
	return s
}

// maxLine bounds a reply line without its data.
const maxLine = 4096

// cutLine returns the line at the start of b without its CRLF, and the
// bytes after it.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:], true
		}
	}
	return nil, nil, false
}

// parseLen parses a non-negative decimal length.
func parseLen(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// data returns the n bytes of data at the start of b followed by CRLF,
// and the length of both.
func data(b []byte, n int) ([]byte, int, error) {
	if len(b) < n+2 {
		return nil, 0, ErrIncomplete
	}
	if b[n] != '\r' || b[n+1] != '\n' {
		return nil, 0, errors.New("data not followed by CRLF")
	}
	return b[:n], n + 2, nil
}
