package h1

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// ErrIncomplete is Parser.Parse's answer when the buffer holds only the
// start of a response: read more and parse again from the same start.
var ErrIncomplete = errors.New("h1: incomplete response")

// DefaultMaxBody is Parser.MaxBody's default: 64 MiB.
const DefaultMaxBody = 64 << 20

// Parser parses responses out of a buffer that a non-blocking reader
// fills.
type Parser struct {
	// MaxBody bounds a body's size in bytes; default DefaultMaxBody.
	MaxBody int
	body    []byte // a chunked body, reassembled
}

// BodyLimit returns the largest body the parser accepts, in bytes:
// MaxBody or its default.
func (p *Parser) BodyLimit() int {
	if p.MaxBody > 0 {
		return p.MaxBody
	}
	return DefaultMaxBody
}

// Parse parses the response at the start of b, skipping interim (1xx)
// ones, and returns it with the number of bytes of b it took. The body
// aliases b, or for a chunked body the Parser's own buffer, and is valid
// until b changes or the next Parse. When b holds only part of a
// response, Parse returns ErrIncomplete; any other error means the
// stream cannot be parsed further.
func (p *Parser) Parse(b []byte) (Response, int, error) {
	off := 0
	for {
		resp, n, err := p.parseOne(b[off:])
		if err != nil {
			return Response{}, 0, err
		}
		off += n
		if resp.Status >= 200 {
			return resp, off, nil
		}
	}
}

func (p *Parser) parseOne(b []byte) (Response, int, error) {
	line, rest, ok := cutLine(b)
	if !ok {
		return Response{}, 0, p.incomplete(b)
	}
	status, err := parseStatus(line)
	if err != nil {
		return Response{}, 0, err
	}
	resp := Response{Status: status}
	length, chunked, rest, err := headers(rest, &resp)
	if err != nil {
		return Response{}, 0, err
	}
	head := len(b) - len(rest)
	switch {
	case status < 200 || status == 204 || status == 304:
		return resp, head, nil
	case chunked:
		body, n, err := p.chunked(rest)
		if err != nil {
			return Response{}, 0, err
		}
		resp.Body = body
		return resp, head + n, nil
	case length >= 0:
		if length > p.BodyLimit() {
			return Response{}, 0, &ParseError{Msg: fmt.Sprintf("body of %d bytes over the limit of %d", length, p.BodyLimit())}
		}
		if len(rest) < length {
			return Response{}, 0, ErrIncomplete
		}
		resp.Body = rest[:length:length]
		return resp, head + length, nil
	}
	return Response{}, 0, ErrNoLength
}

// maxLine bounds a status line, a header line and a chunk-size line.
const maxLine = 64 << 10

// incomplete returns ErrIncomplete, or an error when b already holds more
// than a line may.
func (p *Parser) incomplete(b []byte) error {
	if len(b) > maxLine {
		return &ParseError{Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
	}
	return ErrIncomplete
}

// cutLine returns the line at the start of b without its CR LF (or LF),
// and what follows it.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, b, false
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest, true
}

// parseStatus parses "HTTP/1.x NNN reason".
func parseStatus(line []byte) (int, error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, &ParseError{Msg: "malformed status line", Line: string(line)}
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, &ParseError{Msg: "malformed status code", Line: string(line)}
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, &ParseError{Msg: "malformed status code", Line: string(line)}
	}
	return code, nil
}

// headers parses the header block at the start of b and returns the
// Content-Length (-1 when absent), whether the body is chunked, and what
// follows the block.
func headers(b []byte, resp *Response) (length int, chunked bool, rest []byte, err error) {
	length = -1
	for {
		line, after, ok := cutLine(b)
		if !ok {
			if len(b) > maxLine {
				return 0, false, nil, &ParseError{Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
			}
			return 0, false, nil, ErrIncomplete
		}
		b = after
		if len(line) == 0 {
			return length, chunked, b, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, nil, &ParseError{Msg: "malformed header", Line: string(line)}
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseDecimal(value)
			if !ok || (length >= 0 && n != length) {
				return 0, false, nil, &ParseError{Msg: "bad Content-Length", Line: string(line)}
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, false, nil, &ParseError{Msg: "unsupported transfer coding", Line: string(line)}
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			resp.Close = resp.Close || bytes.EqualFold(value, []byte("close"))
		}
	}
}

// parseDecimal parses a non-negative decimal of 1 to 18 digits.
func parseDecimal(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
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

// chunked parses a chunked body (RFC 9112 section 7.1) at the start of b
// into the Parser's buffer, ignoring extensions and trailers, and returns
// it with the number of bytes it took.
func (p *Parser) chunked(b []byte) ([]byte, int, error) {
	body := p.body[:0]
	off := 0
	for {
		line, rest, ok := cutLine(b[off:])
		if !ok {
			return nil, 0, p.incomplete(b[off:])
		}
		size, _, _ := bytes.Cut(line, []byte(";")) // drop extensions
		n, ok := parseHex(bytes.TrimSpace(size))
		if !ok {
			return nil, 0, &ParseError{Msg: "bad chunk size", Line: string(line)}
		}
		off = len(b) - len(rest)
		if n == 0 {
			break
		}
		if len(body)+n > p.BodyLimit() {
			return nil, 0, &ParseError{Msg: fmt.Sprintf("chunked body over the limit of %d bytes", p.BodyLimit())}
		}
		if len(rest) < n {
			return nil, 0, ErrIncomplete
		}
		body = append(slices.Grow(body, n), rest[:n]...)
		line, rest, ok = cutLine(rest[n:])
		if !ok && len(rest) < 2 {
			return nil, 0, ErrIncomplete
		}
		if !ok || len(line) != 0 {
			return nil, 0, &ParseError{Msg: "chunk not followed by a line break"}
		}
		off = len(b) - len(rest)
	}
	for { // trailers, up to the empty line
		line, rest, ok := cutLine(b[off:])
		if !ok {
			return nil, 0, p.incomplete(b[off:])
		}
		off = len(b) - len(rest)
		if len(line) == 0 {
			p.body = body
			return body, off, nil
		}
	}
}

// parseHex parses a chunk size of 1 to 15 hex digits.
func parseHex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
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
			return 0, false
		}
		n = n<<4 | int(d)
	}
	return n, true
}
