package http1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/corekv/corekv/api"
)

// FuzzParseDifferential compares the loop engine's parser (parseHead, then
// scanChunked/decodeChunked or the next Content-Length bytes) with what
// net/http's Server makes of the same bytes: http.ReadRequest, the checks
// its conn.readRequest and conn.serve add (supported version, Host, header
// bytes, Expect), and reading the body to its end. Up to diffMaxRequests
// pipelined requests are compared, one after the other, while both keep
// the connection open.
//
// Both must accept with the same method, target, version, framing, body
// and connection semantics, and take the same number of bytes, or both must
// refuse. Where corekv deliberately differs, a named rule below says why;
// any other disagreement fails, and a request corekv accepts while
// net/http refuses fails unless a lax rule shows that the difference
// cannot change the framing.
func FuzzParseDifferential(f *testing.F) {
	for _, tc := range diffSeeds {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		diffStream(t, in)
	})
}

// diffSeeds are the f.Add seeds; the dangerous requests are kept as files in
// testdata/fuzz/FuzzParseDifferential.
var diffSeeds = []string{
	"GET /get/a HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	"POST /store/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
}

const (
	diffMaxHead     = 16 << 10 // shard.DefaultMaxHeaderSize
	diffMaxBody     = api.DefaultMaxValueSize
	diffMaxRequests = 8
)

// parsed is what a parser made of one request: what a server acts upon.
type parsed struct {
	method, target string
	minor          int
	contentLength  int64 // -1 without a Content-Length, and when chunked
	chunked        bool
	keepAlive      bool
	expect100      bool // a 100 Continue is due (HTTP/1.1 only)
	body           string
	headLen        int // bytes up to the end of the head
	used           int // bytes of the stream the request took, body included
}

// errIncomplete stands for corekv waiting for more input: at the end of the
// stream the loop closes the connection without serving the request.
var errIncomplete = &api.Problem{Msg: "incomplete: more input needed"}

// parseCorekv reads one request with the functions the loop serves with:
// ParseHead, then FrameBody and DecodeBody.
func parseCorekv(in []byte) (parsed, *api.Problem) {
	var r Request
	ok, p := ParseHead(in, diffMaxHead, &r)
	if p != nil {
		return parsed{}, p
	}
	if !ok {
		return parsed{}, errIncomplete
	}
	out := parsed{
		method: strings.Clone(r.Method), target: strings.Clone(r.Target), minor: r.Minor,
		contentLength: r.ContentLength, chunked: r.Chunked, keepAlive: r.KeepAlive,
		expect100: r.Expect100, headLen: r.HeadLen, used: r.HeadLen,
	}
	rest := in[r.HeadLen:]
	size, span, done, p := FrameBody(&r, rest, diffMaxBody)
	if p != nil {
		return parsed{}, p
	}
	if !done {
		return parsed{}, errIncomplete
	}
	body := make([]byte, size)
	DecodeBody(&r, rest[:span], body)
	out.body, out.used = string(body), out.used+span
	return out, nil
}

// parseStd reads one request the way net/http's Server does.
func parseStd(in []byte) (parsed, *http.Request, error) {
	rd := bytes.NewReader(in)
	br := bufio.NewReader(rd) // 4 KiB, as the Server's
	req, err := http.ReadRequest(br)
	if err != nil {
		return parsed{}, nil, err
	}
	out := parsed{
		method: req.Method, target: req.RequestURI, minor: stdMinor(req),
		contentLength: -1, chunked: len(req.TransferEncoding) > 0, keepAlive: !req.Close,
		headLen: len(in) - rd.Len() - br.Buffered(),
	}
	if _, ok := req.Header["Content-Length"]; ok && !out.chunked {
		out.contentLength = req.ContentLength
	}
	if err := serverChecks(req, stdFields(in)); err != nil {
		return out, req, err
	}
	out.expect100 = req.ProtoAtLeast(1, 1) && netHasToken(req.Header.Get("Expect"), "100-continue")
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return out, req, err
	}
	out.body, out.used = string(body), len(in)-rd.Len()-br.Buffered()
	return out, req, nil
}

// stdMinor is the HTTP/1 minor version net/http's Server acts upon: it
// keeps HTTP/1.2 and later minors in ProtoMinor but treats them as HTTP/1.1
// everywhere (ProtoAtLeast(1, 1)), as corekv does (RFC 9110, section 2.5),
// which records them as 1.
func stdMinor(req *http.Request) int {
	if req.ProtoMajor == 1 && req.ProtoMinor > 1 {
		return 1
	}
	return req.ProtoMinor
}

// serverChecks are the refusals net/http's Server adds after ReadRequest
// (server.go: conn.readRequest, and conn.serve for Expect). fields are the
// request's header fields, Host included: http.ReadRequest drops Host,
// which the Server's own readRequest keeps.
func serverChecks(req *http.Request, fields textproto.MIMEHeader) error {
	if req.ProtoMajor != 1 && !(req.ProtoMajor == 2 && req.ProtoMinor == 0 &&
		req.Method == "PRI" && req.RequestURI == "*") {
		return &stdRefusal{505, "unsupported protocol version"}
	}
	hosts, haveHost := fields["Host"]
	isH2Upgrade := req.Method == "PRI" && req.RequestURI == "*" && req.ProtoMajor == 2
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && !isH2Upgrade && req.Method != "CONNECT" {
		return &stdRefusal{400, "missing required Host header"}
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return &stdRefusal{400, "malformed Host header"}
	}
	for k, vv := range fields {
		if !httpguts.ValidHeaderFieldName(k) {
			return &stdRefusal{400, "invalid header name"}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return &stdRefusal{400, "invalid header value"}
			}
		}
	}
	if e := req.Header.Get("Expect"); e != "" && !netHasToken(e, "100-continue") {
		return &stdRefusal{417, "expectation failed"}
	}
	return nil
}

type stdRefusal struct {
	status int
	msg    string
}

func (e *stdRefusal) Error() string { return strconv.Itoa(e.status) + " " + e.msg }

// netHasToken is net/http's test for a token in a header value (header.go).
func netHasToken(v, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	if v == token {
		return true
	}
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !isTokenBoundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !isTokenBoundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) {
			return true
		}
	}
	return false
}

func isTokenBoundary(b byte) bool { return b == ' ' || b == ',' || b == '\t' }

// diffStream compares the requests of one input, pipelined.
func diffStream(t *testing.T, in []byte) {
	t.Helper()
	for n := 0; n < diffMaxRequests && len(in) > 0; n++ {
		used, keep := diffOne(t, in)
		if !keep {
			return
		}
		in = in[used:]
	}
}

// diffOne compares the first request of in. It returns the bytes the
// request took and whether both parsers go on with the connection.
func diffOne(t *testing.T, in []byte) (int, bool) {
	t.Helper()
	core, p := parseCorekv(in)
	std, req, err := parseStd(in)
	switch {
	case p != nil && err != nil:
		return 0, false
	case p != nil:
		rule := stricterRule(in, p, std, req)
		if rule == "" {
			t.Fatalf("parseHead(%q) = %v, want a request: net/http reads %s and no documented rule explains the difference", brief(in), p, std)
		}
		return 0, false
	case err != nil:
		return diffLax(t, in, core, err)
	}
	compare(t, in, core, std, false)
	return core.used, core.keepAlive
}

// diffLax handles a request that corekv accepts and net/http refuses: a
// smuggling risk unless lax rules, each removing a documented difference
// that does not change framing, make net/http accept the request as corekv
// read it.
func diffLax(t *testing.T, in []byte, core parsed, stdErr error) (int, bool) {
	t.Helper()
	cur, curCore, applied, skipTarget := in, core, []string(nil), false
	for _, rule := range laxRules {
		next := rule.normalize(cur, curCore)
		if next == nil {
			continue
		}
		var p *api.Problem
		if curCore, p = parseCorekv(next); p != nil {
			t.Fatalf("rule %q turned %q into %q, which parseHead refuses: %v", rule.name, brief(cur), brief(next), p)
		}
		cur, applied = next, append(applied, rule.name)
		skipTarget = skipTarget || rule.changesTarget
		std, _, err := parseStd(cur)
		if err != nil {
			stdErr = err
			continue
		}
		std.used += len(in) - len(cur) // the rules edit the first request only
		compare(t, in, core, std, skipTarget)
		return core.used, core.keepAlive
	}
	t.Fatalf("parseHead(%q) = %s, want a refusal: net/http refuses it (%v) after rules %q; possible request smuggling", brief(in), core, stdErr, applied)
	return 0, false
}

func compare(t *testing.T, in []byte, core, std parsed, skipTarget bool) {
	t.Helper()
	if skipTarget {
		std.target = core.target
	}
	std.headLen = core.headLen // used covers it; the lax rules may shift it
	if core != std {
		t.Fatalf("parse(%q) = %s, want net/http's %s", brief(in), core, std)
	}
}

// String formats p for failure messages, with a long body cut short.
func (p parsed) String() string {
	p.body = brief([]byte(p.body))
	return fmt.Sprintf("%+v", struct {
		Method, Target                string
		Minor                         int
		ContentLength                 int64
		Chunked, KeepAlive, Expect100 bool
		Body                          string
		Used                          int
	}{p.method, p.target, p.minor, p.contentLength, p.chunked, p.keepAlive, p.expect100, p.body, p.used})
}

// brief cuts a long input short for failure messages.
func brief(in []byte) string {
	if len(in) <= 200 {
		return string(in)
	}
	return fmt.Sprintf("%s...(%d bytes)...%s", in[:120], len(in)-160, in[len(in)-40:])
}

// laxRule is a documented case where corekv accepts what net/http refuses.
type laxRule struct {
	name string
	// normalize returns in without the difference, for net/http to read
	// again, or nil when the rule does not apply. core is corekv's reading
	// of the first request of in.
	normalize     func(in []byte, core parsed) []byte
	changesTarget bool
}

var laxRules = []laxRule{
	{
		// RFC 9112, section 2.2: a server SHOULD ignore at least one empty
		// line before the request line. corekv ignores any number of CRLF;
		// net/http's Server skips up to four CR/LF bytes, and only after a
		// POST (server.go, conn.readRequest), which ReadRequest alone does
		// not do. No bytes of the request itself change meaning.
		name: "empty lines before the request line",
		normalize: func(in []byte, _ parsed) []byte {
			if !bytes.HasPrefix(in, []byte("\r\n")) {
				return nil
			}
			for bytes.HasPrefix(in, []byte("\r\n")) {
				in = in[2:]
			}
			return in
		},
	},
	{
		// corekv's parser checks only that the target has no control
		// bytes or spaces and is in origin-, asterisk- or http(s)
		// absolute-form (RFC 9112, section 3.2). It leaves percent-decoding
		// to api.AppendKey, which answers a bad escape in a key 400 (other
		// paths are 404 anyway), and routes an absolute-form target on its
		// path without using the authority. url.ParseRequestURI refuses bad
		// escapes and malformed authorities. The target's bytes do not take
		// part in framing.
		name:          "target syntax is left to the router",
		changesTarget: true,
		normalize: func(in []byte, core parsed) []byte {
			if _, err := url.ParseRequestURI(core.target); err == nil {
				return nil
			}
			i := bytes.Index(in, []byte(core.method+" "+core.target+" "))
			if i < 0 {
				return nil
			}
			start := i + len(core.method) + 1
			return join(in[:start], []byte("/"), in[start+len(core.target):])
		},
	},
	{
		// RFC 9110, section 8.6: a recipient MAY replace duplicated
		// Content-Length fields of the same decimal value with one. corekv
		// compares the numbers ("5" and "05" agree); net/http compares the
		// strings. Every parser that reads decimal finds the same length.
		name: "equal Content-Length values spelled differently",
		normalize: func(in []byte, core parsed) []byte {
			if core.contentLength < 0 {
				return nil
			}
			canon := strconv.FormatInt(core.contentLength, 10)
			changed := false
			out := editFields(in, core.headLen, func(name, value string) string {
				if strings.EqualFold(name, "Content-Length") && value != canon {
					changed = true
					return canon
				}
				return value
			})
			if !changed {
				return nil
			}
			return out
		},
	},
	{
		// RFC 9112, section 7.1.1: chunk-ext = *( BWS ";" ... ), and a
		// recipient MUST parse and remove such bad whitespace. corekv
		// does; net/http refuses "5 ;x" as a bad size. The size itself is
		// read the same.
		name: "whitespace before a chunk extension",
		normalize: func(in []byte, core parsed) []byte {
			if !core.chunked {
				return nil
			}
			changed := false
			out := editChunkLines(in, core.headLen, func(line []byte) []byte {
				i := 0
				for i < len(line) && isHex(line[i]) {
					i++
				}
				j := i
				for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
					j++
				}
				if j == i || j == len(line) || line[j] != ';' {
					return line
				}
				changed = true
				return join(line[:i], line[j:])
			})
			if !changed {
				return nil
			}
			return out
		},
	},
}

// strictRule is a documented case where corekv refuses what net/http
// accepts. applies reports whether the difference explains corekv's
// problem p for input in, which net/http read as std.
type strictRule struct {
	name string
	// problems are the refusals the rule explains; nil means any, for a
	// flaw that makes the whole message invalid to corekv, whichever line
	// its parser refuses first.
	problems []*api.Problem
	applies  func(in []byte, std parsed, req *http.Request) bool
}

// stricterRule returns the name of the rule that explains why corekv
// refuses in with p while net/http accepts it, or "".
func stricterRule(in []byte, p *api.Problem, std parsed, req *http.Request) string {
	for _, r := range strictRules {
		if (r.problems == nil || slices.Contains(r.problems, p)) && r.applies(in, std, req) {
			return r.name
		}
	}
	return ""
}

var strictRules = []strictRule{
	{
		// RFC 9112, section 2.2: a recipient MAY take a bare LF as a line
		// end; corekv requires CRLF everywhere (head, chunk lines and
		// trailers), as a bare LF read as a line end by one hop and as
		// data by another is a known smuggling vector. net/http's
		// textproto takes a bare LF as a line end. Any refusal will do:
		// corekv may refuse a field before the bare LF, read with the
		// LF's line as its value.
		name: "bare LF", problems: nil,
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			return hasBareLF(in[:std.headLen]) || std.chunked && hasBareLF(in[std.headLen:std.used])
		},
	},
	{
		// RFC 9112, section 5.2: a server MUST either reject obs-fold
		// with 400 or replace it with SP; corekv rejects it, in the head
		// and in trailers, net/http joins the lines. Any refusal will do:
		// the field before the fold may be refused first for its partial
		// value ("Content-Length:" then " 5").
		name: "obsolete line folding", problems: nil,
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			return hasObsFold(in[:std.headLen]) || std.chunked && hasObsFold(in[std.headLen:std.used])
		},
	},
	{
		// RFC 9112, section 2.2: a bare CR MUST be treated as invalid or
		// replaced by SP. net/http's textproto drops a CR that ends a
		// field value ("x\r\r\n" reads as "x") as trailing white space;
		// corekv refuses any CR that does not start a CRLF.
		name: "bare CR at the end of a field value", problems: []*api.Problem{errBadHeader},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			return hasBareCR(in[:std.headLen])
		},
	},
	{
		// RFC 9112, section 6.1: a server MAY reject a request with both
		// Transfer-Encoding and Content-Length, and such a message is a
		// classic smuggling attempt; corekv rejects it, net/http drops
		// Content-Length and reads the chunked body.
		name: "Content-Length with Transfer-Encoding", problems: []*api.Problem{errLengthAndTE},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			h := stdFields(in)
			return std.chunked && len(h["Content-Length"]) > 0 && len(h["Transfer-Encoding"]) > 0
		},
	},
	{
		// RFC 9112, section 6.1: a server that receives an HTTP/1.0
		// message with Transfer-Encoding MUST treat its framing as faulty.
		// corekv refuses it, whatever the coding; net/http ignores
		// Transfer-Encoding in HTTP/1.0 and frames by Content-Length.
		name: "Transfer-Encoding in HTTP/1.0", problems: []*api.Problem{errTE10, errLengthAndTE, errTECoding},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			return std.minor == 0 && len(stdFields(in)["Transfer-Encoding"]) > 0
		},
	},
	{
		// RFC 9113, section 3.4: "PRI * HTTP/2.0" starts the HTTP/2
		// preface. The loop hands it to HTTP/2 before parseHead sees it
		// (request_linux.go, process); net/http's Server passes it to the
		// handler.
		name: "HTTP/2 preface", problems: []*api.Problem{errVersion},
		applies: func(_ []byte, _ parsed, req *http.Request) bool {
			return req.Method == "PRI" && req.ProtoMajor == 2 && req.RequestURI == "*"
		},
	},
	{
		// RFC 9110, section 10.1.1: a server MAY answer 417 to an Expect
		// member other than 100-continue. corekv requires every Expect
		// field to be exactly 100-continue; net/http looks for the token
		// in the first field only and ignores an empty one.
		name: "Expect other than 100-continue", problems: []*api.Problem{errExpectation},
		applies: func(in []byte, _ parsed, _ *http.Request) bool {
			for _, v := range stdFields(in)["Expect"] {
				if !strings.EqualFold(strings.TrimSpace(v), "100-continue") {
					return true
				}
			}
			return false
		},
	},
	{
		// RFC 9112, section 3.2: corekv serves origin-form, asterisk-form
		// and http(s) absolute-form targets. Authority-form is for CONNECT,
		// which corekv does not serve, and other schemes are not its own;
		// net/http accepts any target url.ParseRequestURI does.
		name: "target form other than origin, asterisk or http(s)", problems: []*api.Problem{errBadLine},
		applies: func(_ []byte, _ parsed, req *http.Request) bool {
			u := strings.ToLower(req.RequestURI)
			return !strings.HasPrefix(u, "/") && u != "*" &&
				!(strings.HasPrefix(u, "http://") && len(u) > 7) &&
				!(strings.HasPrefix(u, "https://") && len(u) > 8)
		},
	},
	{
		// RFC 9112, section 7.1.1: chunk extensions are tokens and
		// quoted strings. corekv refuses control bytes in them; net/http
		// drops everything after ';' unread.
		name: "control bytes in a chunk extension", problems: []*api.Problem{errBadChunk},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			bad := false
			eachChunkLine(in[std.headLen:std.used], func(line []byte) {
				_, ext, ok := bytes.Cut(line, []byte(";"))
				bad = bad || ok && bytes.ContainsFunc(ext, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
			})
			return bad
		},
	},
	{
		// corekv bounds a chunk size to 15 hex digits, far beyond any
		// value it stores; net/http allows 16. Only zero-padded sizes
		// reach 16 digits and still fit in the body.
		name: "chunk size of 16 hex digits", problems: []*api.Problem{errBadChunk},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			long := false
			eachChunkLine(in[std.headLen:std.used], func(line []byte) {
				n := 0
				for n < len(line) && isHex(line[n]) {
					n++
				}
				long = long || n >= 16
			})
			return long
		},
	},
	{
		// RFC 9112, section 5.1: a server MUST refuse whitespace between
		// a field name and its colon, and a field name is a token (RFC
		// 9110, section 5.1). corekv holds trailer fields to this too;
		// net/http's Server checks the names of header fields only, and
		// its textproto takes "X : 1" in a trailer.
		name: "trailer field name not a token", problems: []*api.Problem{errBadChunk},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			if !std.chunked {
				return false
			}
			trailer := eachChunkLine(in[std.headLen:std.used], func([]byte) {})
			for _, line := range bytes.Split(trailer, []byte("\n")) {
				name, _, ok := bytes.Cut(line, []byte(":"))
				if ok && !httpguts.ValidHeaderFieldName(string(name)) {
					return true
				}
			}
			return false
		},
	},
	{
		// RFC 9112, section 6.3: Content-Length is 1*DIGIT. corekv reads
		// at most 18 digits, which no int64 length can overflow (RFC
		// 9110, section 8.6, asks recipients to guard against overflow);
		// net/http's strconv.ParseUint takes any count of leading zeros.
		name: "Content-Length of more than 18 digits", problems: []*api.Problem{errBadLength},
		applies: func(in []byte, _ parsed, _ *http.Request) bool {
			for _, v := range stdFields(in)["Content-Length"] {
				if len(strings.TrimSpace(v)) > 18 {
					return true
				}
			}
			return false
		},
	},
	{
		// RFC 9112, section 3.2: every HTTP/1.1 request carries Host.
		// net/http's Server exempts CONNECT; corekv, which does not
		// serve CONNECT, does not.
		name: "CONNECT without Host", problems: []*api.Problem{errNoHost},
		applies: func(in []byte, std parsed, _ *http.Request) bool {
			return std.method == "CONNECT" && len(stdFields(in)["Host"]) == 0
		},
	},
	{
		// corekv bounds the head to MaxHeaderSize (DefaultMaxHeaderSize
		// here) and answers 414 or 431; ReadRequest has no bound of its
		// own (the Server applies MaxHeaderBytes, 1 MiB by default).
		name: "head over MaxHeaderSize", problems: []*api.Problem{errLineTooLong, errHeadersTooLong},
		applies: func(_ []byte, std parsed, _ *http.Request) bool { return std.headLen > diffMaxHead },
	},
}

// stdFields returns the header fields of the request at the start of in as
// net/http's textproto reads them, before ReadRequest drops any.
func stdFields(in []byte) textproto.MIMEHeader {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(in)))
	if _, err := tp.ReadLine(); err != nil {
		return nil
	}
	h, _ := tp.ReadMIMEHeader()
	return h
}

// hasBareLF reports whether b holds an LF that does not follow a CR.
func hasBareLF(b []byte) bool {
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

// hasObsFold reports whether b holds a line that starts with SP or HTAB
// after another line.
func hasObsFold(b []byte) bool {
	return bytes.Contains(b, []byte("\n ")) || bytes.Contains(b, []byte("\n\t"))
}

// hasBareCR reports whether b holds a CR that does not start a CRLF.
func hasBareCR(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	_, ok := unhexDigit(c)
	return ok
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// editFields rewrites the values of the header fields of a head that corekv
// accepted (CRLF lines), in[:headLen], keeping the rest of in.
func editFields(in []byte, headLen int, edit func(name, value string) string) []byte {
	head, rest := in[:headLen], in[headLen:]
	lines := bytes.SplitAfter(head, []byte("\r\n"))
	out := []byte{}
	for i, line := range lines {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if i == 0 || !ok || bytes.HasPrefix(line, []byte("\r\n")) {
			out = append(out, line...)
			continue
		}
		v := string(trimOWS(bytes.TrimSuffix(value, []byte("\r\n"))))
		out = append(out, name...)
		out = append(out, ": "+edit(string(name), v)+"\r\n"...)
	}
	return append(out, rest...)
}

// editChunkLines rewrites the chunk-size lines (without their CRLF) of a
// chunked body at in[headLen:] that corekv accepted, keeping the rest.
func editChunkLines(in []byte, headLen int, edit func(line []byte) []byte) []byte {
	out := bytes.Clone(in[:headLen])
	pos := headLen
	for {
		eol := bytes.Index(in[pos:], []byte("\r\n"))
		line := in[pos : pos+eol]
		n, _ := parseChunkSize(in[pos : pos+eol+2])
		out = append(append(out, edit(line)...), "\r\n"...)
		pos += eol + 2
		if n == 0 {
			return append(out, in[pos:]...)
		}
		out = append(out, in[pos:pos+int(n)+2]...)
		pos += int(n) + 2
	}
}

// eachChunkLine calls f with each chunk-size line (without its line end) of
// a chunked body that net/http read in full, framed as net/http frames it,
// and returns the trailer section after the last chunk.
func eachChunkLine(body []byte, f func(line []byte)) (trailer []byte) {
	for len(body) > 0 {
		eol := bytes.IndexByte(body, '\n')
		if eol < 0 {
			return nil
		}
		line := bytes.TrimSuffix(body[:eol], []byte("\r"))
		f(line)
		body = body[eol+1:]
		size, _, _ := bytes.Cut(bytes.TrimRight(line, " \t"), []byte(";"))
		n, err := strconv.ParseUint(string(size), 16, 64)
		if err != nil {
			return nil
		}
		if n == 0 {
			return body
		}
		if n+2 > uint64(len(body)) {
			return nil
		}
		body = body[n+2:]
	}
	return nil
}
