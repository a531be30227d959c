package http1

import (
	"bytes"

	"github.com/corekv/corekv/api"
)

// maxChunkLine bounds a chunk-size line with its extensions, and the whole
// trailer section, in bytes, CRLFs included: net/http's bounds.
const maxChunkLine = 4096

// maxChunkOverhead bounds the framing bytes of a chunked body beyond what
// its data pays for, with net/http's rule: each chunk may spend 16 bytes
// plus twice its size on its size line and the CRLF after its data, and
// the excess carried over from chunk to chunk may not pass 16 KiB. Without
// it, small chunks with long extensions make a body that decodes to a few
// bytes but fills the connection's buffer without end.
const maxChunkOverhead = 16 << 10

// chunkFramingAllowance is the framing bytes each chunk may spend beyond
// twice its size (see maxChunkOverhead).
const chunkFramingAllowance = 16

// maxChunkSizeDigits bounds the hex digits of a chunk size: 15 hold any
// sane size and cannot overflow an int64.
const maxChunkSizeDigits = 15

// scanChunked walks a chunked body (RFC 9112, section 7.1) at the start of
// buf without copying it. It returns the body's decoded size and the bytes
// it spans, the trailer section included, once it is complete; done is false
// while more input is needed. A body that decodes to more than max bytes is
// refused with 413, one with too much framing overhead with 400.
func scanChunked(buf []byte, max int) (size, span int, done bool, p *api.Problem) {
	pos := 0
	var excess int64
	for {
		eol, p := lineEnd(buf[pos:], maxChunkLine)
		if eol < 0 {
			return 0, 0, false, p
		}
		n, p := parseChunkSize(buf[pos : pos+eol+1])
		if p != nil {
			return 0, 0, false, p
		}
		pos += eol + 1
		if excess += int64(eol+1) - chunkFramingAllowance - 2*n; excess < 0 {
			excess = 0
		}
		if excess > maxChunkOverhead {
			return 0, 0, false, errChunkOverhead
		}
		if n == 0 {
			return trailers(buf, pos, size)
		}
		if n > int64(max-size) {
			return 0, 0, false, api.ErrValueTooLarge
		}
		if int64(len(buf)-pos) < n+2 {
			return 0, 0, false, nil
		}
		pos += int(n)
		if buf[pos] != '\r' || buf[pos+1] != '\n' {
			return 0, 0, false, errBadChunk
		}
		pos += 2
		size += int(n)
	}
}

// trailers skips the trailer section after the last chunk: field lines up
// to an empty line, maxChunkLine bytes in all.
func trailers(buf []byte, start, size int) (int, int, bool, *api.Problem) {
	for pos := start; ; {
		eol, p := lineEnd(buf[pos:], start+maxChunkLine-pos)
		if eol < 0 {
			return 0, 0, false, p
		}
		line := buf[pos : pos+eol+1]
		pos += eol + 1
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return 0, 0, false, errBareLF
		}
		line = line[:len(line)-2]
		if len(line) == 0 {
			return size, pos, true, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return 0, 0, false, errBadChunk
		}
		for _, c := range line[colon+1:] {
			if !fieldValueChar[c] {
				return 0, 0, false, errBadChunk
			}
		}
	}
}

// lineEnd returns the index of the LF that ends the line at the start of
// buf, or -1 while the line is incomplete. A line of more than limit bytes
// is refused whether or not its end has arrived, so that the answer does
// not depend on how the input was split into reads.
func lineEnd(buf []byte, limit int) (int, *api.Problem) {
	eol := bytes.IndexByte(buf[:max(min(len(buf), limit), 0)], '\n')
	if eol < 0 && len(buf) >= limit {
		return -1, errBadChunk
	}
	return eol, nil
}

// parseChunkSize parses "chunk-size [chunk-ext] CRLF". Extensions are
// checked for stray control bytes and otherwise ignored.
func parseChunkSize(line []byte) (int64, *api.Problem) {
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return 0, errBadChunk
	}
	line = line[:len(line)-2]
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d, ok := unhexDigit(line[i])
		if !ok {
			break
		}
		if i >= maxChunkSizeDigits {
			return 0, errBadChunk
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, errBadChunk
	}
	ext := trimOWS(line[i:])
	if len(ext) > 0 && ext[0] != ';' {
		return 0, errBadChunk
	}
	for _, c := range ext {
		if !fieldValueChar[c] {
			return 0, errBadChunk
		}
	}
	return n, nil
}

func unhexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeChunked copies the data of a complete chunked body, already checked
// by scanChunked, into dst, which must hold exactly its decoded size.
func decodeChunked(buf, dst []byte) {
	pos, out := 0, 0
	for out < len(dst) {
		eol := bytes.IndexByte(buf[pos:], '\n')
		n, _ := parseChunkSize(buf[pos : pos+eol+1])
		pos += eol + 1
		out += copy(dst[out:], buf[pos:pos+int(n)])
		pos += int(n) + 2
	}
}
