package http1

import "github.com/corekv/corekv/api"

// bodySlack is what an unfinished chunked body may span beyond twice the
// largest value: room for the framing of a body that is still legitimate.
const bodySlack = 64 << 10

// MaxBodySpan bounds the bytes a request body may span, chunked framing
// included, when values are at most maxValue bytes: FrameBody refuses an
// unfinished body that spans more with 413.
func MaxBodySpan(maxValue int) int {
	return 2*maxValue + bodySlack
}

// FrameBody finds the body of request r at the start of data, the bytes
// after its head: the body's decoded size and the bytes it spans. done is
// false while it is incomplete. A body that decodes, or declares, more than
// maxValue bytes is refused with api.ErrValueTooLarge, and so is an
// unfinished chunked body already spanning more than MaxBodySpan(maxValue).
// A request without Content-Length or chunked framing has an empty body.
func FrameBody(r *Request, data []byte, maxValue int) (size, span int, done bool, p *api.Problem) {
	if r.Chunked {
		size, span, done, p = scanChunked(data, maxValue)
		if p == nil && !done && len(data) > MaxBodySpan(maxValue) {
			// Small chunks with extensions may spend ~20 bytes of framing
			// per byte of data within scanChunked's overhead rule: cap
			// what an unfinished body holds in the connection's buffer.
			p = api.ErrValueTooLarge
		}
		return size, span, done, p
	}
	if r.ContentLength <= 0 {
		return 0, 0, true, nil
	}
	if r.ContentLength > int64(maxValue) {
		return 0, 0, false, api.ErrValueTooLarge
	}
	n := int(r.ContentLength)
	return n, n, len(data) >= n, nil
}

// DecodeBody copies the data of a complete body that FrameBody framed,
// body being the span it reported, into dst, which must hold exactly its
// decoded size.
func DecodeBody(r *Request, body, dst []byte) {
	if r.Chunked {
		decodeChunked(body, dst)
		return
	}
	copy(dst, body)
}

// Unframed reports whether the request declared no body at all: neither a
// Content-Length nor chunked framing.
func (r *Request) Unframed() bool {
	return r.ContentLength < 0 && !r.Chunked
}
