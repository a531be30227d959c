package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Reader parses responses from a connection.
type Reader struct {
	br   *bufio.Reader
	body []byte
	// MaxBody bounds a body's size in bytes; default 64 MiB.
	MaxBody int
}

// NewReader returns a Reader over r with a buffer of size bytes, which
// also bounds the length of the status line and of each header.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// Buffered returns the number of bytes read from the connection and not
// yet parsed.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Read parses the next response, skipping interim (1xx) ones.
func (r *Reader) Read() (Response, error) {
	for {
		resp, err := r.read()
		if err != nil || resp.Status >= 200 {
			return resp, err
		}
	}
}

func (r *Reader) read() (Response, error) {
	line, err := r.line()
	if err != nil {
		return Response{}, err
	}
	status, err := parseStatus(line)
	if err != nil {
		return Response{}, err
	}
	resp := Response{Status: status}
	length, chunked, err := r.headers(&resp)
	if err != nil {
		return Response{}, err
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		resp.Body = r.body[:0]
		return resp, nil
	case chunked:
		resp.Body, err = r.chunked()
	case length >= 0:
		resp.Body, err = r.fixed(length)
	default:
		return Response{}, ErrNoLength
	}
	return resp, err
}

// line returns the next line without its CR LF (or LF). It aliases the
// bufio buffer.
func (r *Reader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, &ParseError{Msg: fmt.Sprintf("line longer than %d bytes", r.br.Size())}
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
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

// headers reads the header block and returns the Content-Length (-1 when
// absent) and whether the body is chunked.
func (r *Reader) headers(resp *Response) (length int, chunked bool, err error) {
	length = -1
	for {
		line, err := r.line()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, err
		}
		if len(line) == 0 {
			return length, chunked, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, &ParseError{Msg: "malformed header", Line: string(line)}
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := parseLength(value)
			if err != nil || (length >= 0 && n != length) {
				return 0, false, &ParseError{Msg: "bad Content-Length", Line: string(line)}
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return 0, false, &ParseError{Msg: "unsupported transfer coding", Line: string(line)}
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			resp.Close = resp.Close || bytes.EqualFold(value, []byte("close"))
		}
	}
}

// parseLength parses a non-negative decimal of at most 18 digits.
func parseLength(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 18 {
		return 0, strconv.ErrSyntax
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func (r *Reader) maxBody() int {
	if r.MaxBody > 0 {
		return r.MaxBody
	}
	return 64 << 20
}

// fixed reads a body of n bytes into the Reader's own buffer.
func (r *Reader) fixed(n int) ([]byte, error) {
	if n > r.maxBody() {
		return nil, &ParseError{Msg: fmt.Sprintf("body of %d bytes over the limit of %d", n, r.maxBody())}
	}
	r.body = grow(r.body[:0], n)
	if _, err := io.ReadFull(r.br, r.body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r.body, nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
