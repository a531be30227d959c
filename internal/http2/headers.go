package http2

import (
	"strconv"

	"golang.org/x/net/http/httpguts"
	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/api"
)

// block is the header block being decoded.
type block struct {
	id        uint32
	s         *stream // nil: decoded only to keep HPACK in sync
	end       bool    // the HEADERS frame ended the stream
	trailers  bool
	wire      int // bytes of frames so far
	size      int // header list size, as RFC 9113 counts it
	tooBig    bool
	bad       bool // malformed: reset with PROTOCOL_ERROR
	regular   bool // a regular field was seen: no more pseudo-headers
	pseudo    uint8
	method    string
	path      string
	authority string
	length    int64
}

// Pseudo-headers seen, as bits of block.pseudo.
const (
	pseudoMethod = 1 << iota
	pseudoPath
	pseudoScheme
	pseudoAuthority
)

// headers handles a HEADERS frame: a new stream, or trailers.
func (c *Conn) headers(id uint32, flags xhttp2.Flags, p []byte) {
	if id == 0 || id%2 == 0 {
		c.connError(xhttp2.ErrCodeProtocol, "bad stream ID for HEADERS")
		return
	}
	frag, dep, ok := headersPayload(flags, p)
	if !ok {
		c.connError(xhttp2.ErrCodeProtocol, "bad HEADERS padding")
		return
	}
	c.hb = block{id: id, end: flags.Has(xhttp2.FlagHeadersEndStream), length: -1, wire: len(p) + 9}
	switch s := c.stream(id); {
	case id > c.maxClientID:
		c.hb.s = c.open(id)
	case s != nil && s.state == stateOpen && !s.early:
		c.hb.s, c.hb.trailers = s, true
	case s != nil || c.resetByUs(id):
		if s != nil && !s.early {
			c.rst(id, xhttp2.ErrCodeStreamClosed)
		}
	case c.closedLately(id):
		c.connError(xhttp2.ErrCodeStreamClosed, "HEADERS on a closed stream")
		return
	default:
		c.connError(xhttp2.ErrCodeProtocol, "stream ID lower than a previous one")
		return
	}
	if c.hb.s != nil && flags.Has(xhttp2.FlagHeadersPriority) && dep == id {
		c.rst(id, xhttp2.ErrCodeProtocol)
		c.hb.s = nil
	}
	c.dec.SetEmitEnabled(c.hb.s != nil)
	c.fragment(frag, flags.Has(xhttp2.FlagHeadersEndHeaders))
}

// headersPayload strips a HEADERS frame's padding and priority fields.
func headersPayload(flags xhttp2.Flags, p []byte) (frag []byte, dep uint32, ok bool) {
	pad := 0
	if flags.Has(xhttp2.FlagHeadersPadded) {
		if len(p) == 0 {
			return nil, 0, false
		}
		pad, p = int(p[0]), p[1:]
	}
	if flags.Has(xhttp2.FlagHeadersPriority) {
		if len(p) < 5 {
			return nil, 0, false
		}
		dep = (uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])) & (1<<31 - 1)
		p = p[5:]
	}
	if pad > len(p) {
		return nil, 0, false
	}
	return p[:len(p)-pad], dep, true
}

// continuation handles a CONTINUATION frame.
func (c *Conn) continuation(id uint32, flags xhttp2.Flags, p []byte) {
	if id == 0 || id != c.contID {
		c.connError(xhttp2.ErrCodeProtocol, "unexpected CONTINUATION")
		return
	}
	if len(p) == 0 && !c.calm() {
		return
	}
	if c.hb.wire += len(p) + 9; c.hb.wire > 2*c.cfg.MaxHeaderListSize {
		c.connError(xhttp2.ErrCodeEnhanceYourCalm, "header block too large")
		return
	}
	c.fragment(p, flags.Has(xhttp2.FlagContinuationEndHeaders))
}

// fragment decodes part of a header block.
func (c *Conn) fragment(p []byte, endHeaders bool) {
	if _, err := c.dec.Write(p); err != nil {
		c.connError(xhttp2.ErrCodeCompression, "bad header block")
		return
	}
	if !endHeaders {
		c.contID = c.hb.id
		return
	}
	c.contID = 0
	if err := c.dec.Close(); err != nil {
		c.connError(xhttp2.ErrCodeCompression, "truncated header block")
		return
	}
	c.endBlock()
}

// endBlock acts on a complete header block.
func (c *Conn) endBlock() {
	b := &c.hb
	s := b.s
	b.s = nil
	switch {
	case s == nil:
		c.finishIfIdle()
	case b.bad, b.trailers && !b.end:
		c.rst(s.id, xhttp2.ErrCodeProtocol)
	case b.trailers:
		c.complete(s)
	case b.tooBig:
		c.refuseWhole(s, b.end, errHeadersTooLarge)
	case !b.valid():
		c.rst(s.id, xhttp2.ErrCodeProtocol)
	default:
		s.method, s.path, s.authority, s.contentLength = b.method, b.path, b.authority, b.length
		switch {
		case s.contentLength > int64(c.cfg.MaxBodySize):
			c.refuseWhole(s, b.end, api.ErrValueTooLarge)
		case b.end:
			c.complete(s)
		}
	}
}

// refuseWhole answers a stream early; a stream that ended with its
// headers is answered as a complete request.
func (c *Conn) refuseWhole(s *stream, end bool, p *api.Problem) {
	if end {
		s.state = stateHalfClosed
	}
	c.refuse(s, p)
}

// valid reports whether a request's pseudo-headers are complete.
func (b *block) valid() bool {
	if b.method == "CONNECT" {
		return b.pseudo == pseudoMethod|pseudoAuthority
	}
	return b.pseudo&(pseudoMethod|pseudoPath|pseudoScheme) == pseudoMethod|pseudoPath|pseudoScheme
}

// onField is the HPACK decoder's emit function: it checks each field of a
// request (RFC 9113, section 8.2 and 8.3) and keeps what corekv uses.
func (c *Conn) onField(f hpack.HeaderField) {
	b := &c.hb
	if b.size += int(f.Size()); b.size > c.cfg.MaxHeaderListSize {
		b.tooBig = true
		c.dec.SetEmitEnabled(false)
		return
	}
	if b.bad {
		return
	}
	if !validValue(f.Value) {
		b.bad = true
		return
	}
	if len(f.Name) > 0 && f.Name[0] == ':' {
		b.bad = b.regular || b.trailers || !b.pseudoField(f)
		return
	}
	b.regular = true
	b.bad = !b.regularField(f)
}

// pseudoField records a pseudo-header and reports whether it is allowed.
func (b *block) pseudoField(f hpack.HeaderField) bool {
	var bit uint8
	switch f.Name {
	case ":method":
		bit, b.method = pseudoMethod, f.Value
	case ":path":
		bit, b.path = pseudoPath, f.Value
	case ":scheme":
		bit = pseudoScheme
	case ":authority":
		bit, b.authority = pseudoAuthority, f.Value
	default:
		return false
	}
	if b.pseudo&bit != 0 || f.Value == "" {
		return false
	}
	b.pseudo |= bit
	return true
}

// regularField reports whether a regular field is allowed in HTTP/2, and
// records content-length.
func (b *block) regularField(f hpack.HeaderField) bool {
	if !validName(f.Name) {
		return false
	}
	switch f.Name {
	case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
		return false
	case "te":
		return f.Value == "trailers"
	case "content-length":
		n, err := strconv.ParseUint(f.Value, 10, 63)
		if err != nil || b.length >= 0 && int64(n) != b.length {
			return false
		}
		b.length = int64(n)
	}
	return true
}

// validName reports whether a field name is a lowercase token.
func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return httpguts.ValidHeaderFieldName(name)
}

// validValue reports whether a field value has no NUL, CR or LF and no
// whitespace at either end.
func validValue(v string) bool {
	if v == "" {
		return true
	}
	if isSpace(v[0]) || isSpace(v[len(v)-1]) {
		return false
	}
	return httpguts.ValidHeaderFieldValue(v)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
