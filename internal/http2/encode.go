package http2

import (
	"net/http"
	"strconv"

	xhttp2 "golang.org/x/net/http2"

	"github.com/corekv/corekv/api"
)

// Static table indexes (RFC 7541, appendix A) of the fields answers use.
const (
	idxStatus        = 8
	idxAllow         = 22
	idxCacheControl  = 24
	idxContentLength = 28
	idxContentType   = 31
	idxDate          = 33
)

// appendFrameHeader appends a frame header.
func appendFrameHeader(b []byte, n int, t xhttp2.FrameType, f xhttp2.Flags, id uint32) []byte {
	return append(b, byte(n>>16), byte(n>>8), byte(n), byte(t), byte(f),
		byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}

// writeHeaders appends a response's HEADERS frame. The header block is
// encoded from the static table, without the dynamic table, so that it
// needs no state shared with the peer.
func (c *Conn) writeHeaders(id uint32, res *api.Result, end bool) {
	b := c.out.Buffer()
	start := len(*b)
	flags := xhttp2.FlagHeadersEndHeaders
	if end {
		flags |= xhttp2.FlagHeadersEndStream
	}
	h := appendFrameHeader(*b, 0, xhttp2.FrameHeaders, flags, id)
	h = appendStatus(h, res.Status)
	if res.ContentType != "" {
		h = appendField(h, idxContentType, res.ContentType)
	}
	if res.Status != http.StatusNoContent && res.Status != http.StatusNotModified {
		h = appendIndex(h, idxContentLength)
		h = appendUint(h, uint64(res.Len()))
	}
	if res.Allow != "" {
		h = appendField(h, idxAllow, res.Allow)
	}
	if res.MaxAge > 0 {
		h = appendIndex(h, idxCacheControl)
		h = appendMaxAge(h, res.MaxAge)
	}
	if len(c.srv.date) > 0 {
		h = appendIndex(h, idxDate)
		h = appendString(h, c.srv.date)
	}
	n := len(h) - start - 9
	h[start], h[start+1], h[start+2] = byte(n>>16), byte(n>>8), byte(n)
	*b = h
}

// appendStatus appends :status, indexed when the static table has it.
func appendStatus(b []byte, code int) []byte {
	switch code {
	case 0, 200:
		return append(b, 0x80|8)
	case 204:
		return append(b, 0x80|9)
	case 206:
		return append(b, 0x80|10)
	case 304:
		return append(b, 0x80|11)
	case 400:
		return append(b, 0x80|12)
	case 404:
		return append(b, 0x80|13)
	case 500:
		return append(b, 0x80|14)
	}
	b = appendIndex(b, idxStatus)
	return appendUint(b, uint64(code))
}

// appendIndex starts a literal field without indexing whose name is the
// static table's entry idx.
func appendIndex(b []byte, idx int) []byte {
	return appendVarint(b, 4, 0x00, uint64(idx))
}

func appendField(b []byte, idx int, v string) []byte {
	b = appendIndex(b, idx)
	b = appendVarint(b, 7, 0x00, uint64(len(v)))
	return append(b, v...)
}

func appendString(b, v []byte) []byte {
	b = appendVarint(b, 7, 0x00, uint64(len(v)))
	return append(b, v...)
}

// appendUint appends a decimal string literal.
func appendUint(b []byte, v uint64) []byte {
	var d [20]byte
	s := strconv.AppendUint(d[:0], v, 10)
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// appendMaxAge appends "max-age=N" as a string literal.
func appendMaxAge(b []byte, age int64) []byte {
	var d [32]byte
	s := strconv.AppendInt(append(d[:0], "max-age="...), age, 10)
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// appendVarint appends an HPACK integer with an n-bit prefix (RFC 7541,
// section 5.1); first holds the bits above the prefix.
func appendVarint(b []byte, n uint, first byte, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(b, first|byte(v))
	}
	b = append(b, first|byte(limit))
	for v -= limit; v >= 128; v >>= 7 {
		b = append(b, byte(v&0x7f)|0x80)
	}
	return append(b, byte(v))
}
