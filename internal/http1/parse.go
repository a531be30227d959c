// Package http1 parses and frames HTTP/1.1 requests and encodes the
// responses to them, without allocating: the request head is read in place
// (ParseHead), the body found and decoded (FrameBody, DecodeBody) and the
// answers of a batch gathered for one writev (Out).
package http1

import (
	"bytes"
	"net/http"
	"strings"
	"unsafe"

	"github.com/corekv/corekv/api"
)

// Request is one parsed HTTP/1.x request head. Its strings are views into
// the connection's input and stay valid only until that input is consumed.
type Request struct {
	Method, Target string
	Minor          int   // HTTP/1.minor: 0, or 1 for HTTP/1.1 and later minors
	HeadLen        int   // bytes of the head, the blank line included
	ContentLength  int64 // -1 when the request has no Content-Length
	Chunked        bool
	KeepAlive      bool   // the connection may carry another request after this one
	Expect100      bool   // a 100 Continue is due before the body (HTTP/1.1 only)
	UpgradeH2C     bool   // a valid Upgrade: h2c request (RFC 7540, section 3.2)
	H2Settings     string // the HTTP2-Settings header of an upgrade
}

// Refusals of malformed requests. After any of them the connection is
// closed: the byte stream can no longer be trusted to be framed right.
var (
	errBadLine        = &api.Problem{Status: http.StatusBadRequest, Msg: "malformed request line"}
	errBadHeader      = &api.Problem{Status: http.StatusBadRequest, Msg: "malformed header field"}
	errBareLF         = &api.Problem{Status: http.StatusBadRequest, Msg: "line ends without CR"}
	errObsFold        = &api.Problem{Status: http.StatusBadRequest, Msg: "obsolete line folding is not allowed"}
	errBadLength      = &api.Problem{Status: http.StatusBadRequest, Msg: "invalid Content-Length"}
	errTwoLengths     = &api.Problem{Status: http.StatusBadRequest, Msg: "conflicting Content-Length headers"}
	errLengthAndTE    = &api.Problem{Status: http.StatusBadRequest, Msg: "Content-Length together with Transfer-Encoding"}
	errTE10           = &api.Problem{Status: http.StatusBadRequest, Msg: "Transfer-Encoding in an HTTP/1.0 request"}
	errNoHost         = &api.Problem{Status: http.StatusBadRequest, Msg: "HTTP/1.1 request needs exactly one Host header"}
	errTwoHosts       = &api.Problem{Status: http.StatusBadRequest, Msg: "more than one Host header"}
	errBadHost        = &api.Problem{Status: http.StatusBadRequest, Msg: "invalid Host header"}
	errBadChunk       = &api.Problem{Status: http.StatusBadRequest, Msg: "malformed chunked body"}
	errChunkOverhead  = &api.Problem{Status: http.StatusBadRequest, Msg: "chunked body with too much framing overhead"}
	errTECoding       = &api.Problem{Status: http.StatusNotImplemented, Msg: "unsupported Transfer-Encoding: only chunked is accepted"}
	errExpectation    = &api.Problem{Status: http.StatusExpectationFailed, Msg: "unsupported expectation: only 100-continue is understood"}
	errLineTooLong    = &api.Problem{Status: http.StatusRequestURITooLong, Msg: "request line too long"}
	errHeadersTooLong = &api.Problem{Status: http.StatusRequestHeaderFieldsTooLarge, Msg: "request header fields too large"}
	errVersion        = &api.Problem{Status: http.StatusHTTPVersionNotSupported, Msg: "HTTP version not supported: use HTTP/1.1, HTTP/1.0 or h2c"}
)

// ErrNotHTTP refuses a request line whose version is one word that is not
// HTTP/x.y at all, as in "INVALID CONNECTION PREFACE" (h2spec http2/3.5/2)
// or another protocol's greeting. Such a peer cannot read an HTTP/1.1
// answer (an HTTP/2 client reads it as a frame), so the server closes the
// connection without one, as RFC 9113, section 3.4 lets it do for an
// invalid HTTP/2 preface. Status is what a server that answers anyway
// sends; net/http, the std engine, answers 400 "malformed HTTP version".
var ErrNotHTTP = &api.Problem{Status: http.StatusBadRequest, Msg: "request line without an HTTP version"}

// ErrTimeout answers a request that did not arrive whole within the
// server's read timeout. The parser never returns it; the server sends it.
var ErrTimeout = &api.Problem{Status: http.StatusRequestTimeout, Msg: "request not received in time"}

// Preface is the HTTP/2 connection preface (RFC 9113, section 3.4): a
// connection that starts with it speaks HTTP/2, not HTTP/1.
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// ParseHead parses the request head at the start of buf into r. It returns
// false with a nil problem while the head is incomplete. maxHead bounds the
// head's size in bytes.
func ParseHead(buf []byte, maxHead int, r *Request) (bool, *api.Problem) {
	// RFC 9112, section 2.2: ignore empty lines before the request line.
	skip := 0
	for len(buf)-skip >= 2 && buf[skip] == '\r' && buf[skip+1] == '\n' {
		skip += 2
	}
	end := bytes.Index(buf[skip:], crlfcrlf)
	if end < 0 {
		return false, incompleteHead(buf[skip:], maxHead)
	}
	if skip+end+4 > maxHead {
		if bytes.IndexByte(buf[skip:skip+end+2], '\n') >= maxHead {
			return false, errLineTooLong
		}
		return false, errHeadersTooLong
	}
	head := buf[skip : skip+end+2] // each line keeps its CRLF
	*r = Request{HeadLen: skip + end + 4, ContentLength: -1}
	eol := bytes.IndexByte(head, '\n')
	if p := parseRequestLine(head[:eol+1], r); p != nil {
		return false, p
	}
	if p := parseFields(head[eol+1:], r); p != nil {
		return false, p
	}
	return true, nil
}

var crlfcrlf = []byte("\r\n\r\n")

// incompleteHead decides whether a head without its blank line yet is
// already wrong: too long, or holding a line that ends in a bare LF.
func incompleteHead(buf []byte, maxHead int) *api.Problem {
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		for ; i >= 0; i = nextLF(buf, i) {
			if i == 0 || buf[i-1] != '\r' {
				return errBareLF
			}
		}
	} else if len(buf) >= maxHead {
		return errLineTooLong
	}
	if len(buf) >= maxHead {
		return errHeadersTooLong
	}
	return nil
}

func nextLF(buf []byte, i int) int {
	j := bytes.IndexByte(buf[i+1:], '\n')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// parseRequestLine parses "method SP target SP HTTP/x.y CRLF".
func parseRequestLine(line []byte, r *Request) *api.Problem {
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return errBareLF
	}
	line = line[:len(line)-2]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 || !isToken(line[:sp1]) {
		return errBadLine
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errBadLine
	}
	target, version := rest[:sp2], rest[sp2+1:]
	for _, c := range target {
		if c <= ' ' || c == 0x7f {
			return errBadLine
		}
	}
	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		!isDigit(version[5]) || !isDigit(version[7]) {
		if notHTTP(version) {
			return ErrNotHTTP
		}
		return errBadLine
	}
	if version[5] != '1' {
		return errVersion
	}
	// RFC 9110, section 2.5: HTTP/1.2 and later minors are served as 1.1.
	r.Minor = min(int(version[7]-'0'), 1)
	r.Method = view(line[:sp1])
	r.Target = view(target)
	if r.Target[0] != '/' && r.Target != "*" && !hasScheme(r.Target) {
		return errBadLine
	}
	return nil
}

// notHTTP reports whether the version of a three-word request line is no
// HTTP version at all: one word that does not start with "HTTP/" in any
// case. A malformed HTTP version ("HTTP/1.x", "http/1.1") or a line of
// more than three words is an HTTP/1 request gone wrong, answered 400.
func notHTTP(version []byte) bool {
	return len(version) > 0 && bytes.IndexByte(version, ' ') < 0 &&
		!(len(version) >= 5 && eqFold(view(version[:5]), "http/"))
}

// Origin returns the request target in origin form: an absolute-form
// target (http://host/path?query, RFC 9112 section 3.2.2) without its
// scheme and authority. Other targets are returned as they are.
func (r *Request) Origin() string {
	t := r.Target
	if !hasScheme(t) {
		return t
	}
	rest := t[strings.Index(t, "//")+2:]
	if i := strings.IndexAny(rest, "/?"); i >= 0 && rest[i] == '/' {
		return rest[i:]
	} else if i >= 0 {
		return "/" + rest[i:]
	}
	return "/"
}

func hasScheme(target string) bool {
	return len(target) > 7 && (eqFold(target[:7], "http://") ||
		len(target) > 8 && eqFold(target[:8], "https://"))
}

// fieldSeen records which framing headers a head carried.
type fieldSeen struct {
	hosts, lengths, tes int
	connUpgrade         bool
	connSettings        bool
	upgradeH2C          bool
	settings            int
	close, keepAlive    bool
}

// parseFields parses the header section: lines of "name: value CRLF".
func parseFields(fields []byte, r *Request) *api.Problem {
	var seen fieldSeen
	for len(fields) > 0 {
		eol := bytes.IndexByte(fields, '\n')
		line := fields[:eol+1]
		fields = fields[eol+1:]
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return errBareLF
		}
		line = line[:len(line)-2]
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return errBadHeader
		}
		value := trimOWS(line[colon+1:])
		for _, c := range value {
			if !fieldValueChar[c] {
				return errBadHeader
			}
		}
		if p := applyField(line[:colon], value, r, &seen); p != nil {
			return p
		}
	}
	return finishFields(r, &seen)
}

// applyField takes in one header field that matters to framing or routing;
// the others are ignored.
func applyField(name, value []byte, r *Request, seen *fieldSeen) *api.Problem {
	switch len(name) {
	case 4:
		if eqFold(view(name), "host") {
			seen.hosts++
			for _, c := range value {
				if !hostChar[c] {
					return errBadHost // RFC 9112, section 3.2
				}
			}
		}
	case 6:
		if eqFold(view(name), "expect") {
			if !eqFold(view(value), "100-continue") {
				return errExpectation
			}
			r.Expect100 = r.Minor == 1 // RFC 9110, 10.1.1: ignore it in HTTP/1.0
		}
	case 7:
		if eqFold(view(name), "upgrade") {
			eachToken(value, func(t string) { seen.upgradeH2C = seen.upgradeH2C || eqFold(t, "h2c") })
		}
	case 10:
		if eqFold(view(name), "connection") {
			eachToken(value, func(t string) {
				switch {
				case eqFold(t, "close"):
					seen.close = true
				case eqFold(t, "keep-alive"):
					seen.keepAlive = true
				case eqFold(t, "upgrade"):
					seen.connUpgrade = true
				case eqFold(t, "http2-settings"):
					seen.connSettings = true
				}
			})
		}
	case 14:
		if eqFold(view(name), "content-length") {
			return applyLength(value, r, seen)
		}
		if eqFold(view(name), "http2-settings") {
			seen.settings++
			r.H2Settings = view(value)
		}
	case 17:
		if eqFold(view(name), "transfer-encoding") {
			seen.tes++
			if !eqFold(view(value), "chunked") {
				return errTECoding
			}
			r.Chunked = true
		}
	}
	return nil
}

// maxLengthDigits bounds the digits of a Content-Length: 18 decimal digits
// always fit an int64.
const maxLengthDigits = 18

func applyLength(value []byte, r *Request, seen *fieldSeen) *api.Problem {
	if len(value) == 0 || len(value) > maxLengthDigits {
		return errBadLength
	}
	var n int64
	for _, c := range value {
		if !isDigit(c) {
			return errBadLength
		}
		n = n*10 + int64(c-'0')
	}
	if seen.lengths > 0 && n != r.ContentLength {
		return errTwoLengths
	}
	seen.lengths++
	r.ContentLength = n
	return nil
}

func finishFields(r *Request, seen *fieldSeen) *api.Problem {
	if seen.tes > 1 {
		return errTECoding // "chunked" may only be the last, single coding
	}
	if seen.tes > 0 && seen.lengths > 0 {
		return errLengthAndTE
	}
	if seen.tes > 0 && r.Minor == 0 {
		return errTE10
	}
	if seen.hosts > 1 {
		return errTwoHosts // RFC 9112, section 3.2: in any version
	}
	if r.Minor == 1 && seen.hosts == 0 {
		return errNoHost
	}
	if r.Minor == 1 {
		r.KeepAlive = !seen.close
	} else {
		r.KeepAlive = seen.keepAlive && !seen.close
	}
	r.UpgradeH2C = r.Minor == 1 && seen.upgradeH2C && seen.connUpgrade &&
		seen.connSettings && seen.settings == 1
	return nil
}

// eachToken calls f with each comma-separated token of a header value.
func eachToken(value []byte, f func(string)) {
	for len(value) > 0 {
		i := bytes.IndexByte(value, ',')
		if i < 0 {
			i = len(value)
		}
		if t := trimOWS(value[:i]); len(t) > 0 {
			f(view(t))
		}
		if i == len(value) {
			return
		}
		value = value[i+1:]
	}
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return len(b) > 0
}

// eqFold reports whether s equals the lower-case ASCII string lower,
// ignoring ASCII case.
func eqFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// view returns b as a string without copying. The string is valid only while
// b is not modified.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// tokenChar and fieldValueChar are the character classes of RFC 9110:
// tchar, and field-vchar plus SP and HTAB.
var tokenChar, fieldValueChar = charClasses()

// hostChar is the bytes of a Host value, uri-host [ ":" port ] (RFC 9110,
// section 7.2; RFC 3986, section 3.2.2): unreserved, pct-encoded and
// sub-delims characters, ':', and the brackets of an IP literal.
var hostChar = charSet("-._~%!$&'()*+,;=:[]")

func charSet(extra string) (set [256]bool) {
	for c := 0; c < 256; c++ {
		set[c] = '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			c < 0x80 && strings.IndexByte(extra, byte(c)) >= 0
	}
	return set
}

func charClasses() (token, value [256]bool) {
	for c := 0; c < 256; c++ {
		value[c] = c == '\t' || c >= ' ' && c != 0x7f
		token[c] = '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			c < 0x7f && c > ' ' && bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), byte(c)) >= 0
	}
	return token, value
}
