package h1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// chunked reads a chunked body (RFC 9112 section 7.1) into the Reader's
// own buffer, ignoring chunk extensions and trailers.
func (r *Reader) chunked() ([]byte, error) {
	body := r.body[:0]
	for {
		line, err := r.line()
		if err != nil {
			return nil, unexpected(err)
		}
		size, _, _ := bytes.Cut(line, []byte(";")) // drop extensions
		n, err := parseHex(bytes.TrimSpace(size))
		if err != nil {
			return nil, &ParseError{Msg: "bad chunk size", Line: string(line)}
		}
		if n == 0 {
			break
		}
		if len(body)+n > r.maxBody() {
			return nil, &ParseError{Msg: fmt.Sprintf("chunked body over the limit of %d bytes", r.maxBody())}
		}
		start := len(body)
		body = slices.Grow(body, n)[:start+n]
		r.body = body
		if _, err := io.ReadFull(r.br, body[start:]); err != nil {
			return nil, unexpected(err)
		}
		if line, err := r.line(); err != nil || len(line) != 0 {
			return nil, &ParseError{Msg: "chunk not followed by a line break"}
		}
	}
	for { // trailers, up to the empty line
		line, err := r.line()
		if err != nil {
			return nil, unexpected(err)
		}
		if len(line) == 0 {
			r.body = body
			return body, nil
		}
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseHex parses a chunk size of at most 15 hex digits.
func parseHex(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 15 {
		return 0, errors.New("bad hex")
	}
	n := 0
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, errors.New("bad hex")
		}
		n = n<<4 | int(d)
	}
	return n, nil
}
