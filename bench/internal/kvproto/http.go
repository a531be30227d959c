package kvproto

import (
	"errors"
	"strconv"

	"github.com/corekv/corekv/bench/internal/h1"
)

// HTTP is corekv's HTTP/1.1 API: POST /store/{key} and GET /get/{key}.
// Keys must be valid path segments as they are: they are not escaped.
type HTTP struct {
	// Host is the Host header's value. Default "corekv".
	Host   string
	parser h1.Parser
}

// Name implements Protocol.
func (*HTTP) Name() string { return "http" }

func (h *HTTP) host() string {
	if h.Host == "" {
		return "corekv"
	}
	return h.Host
}

// AppendGet implements Protocol.
func (h *HTTP) AppendGet(b, key []byte) []byte {
	return h1.AppendGet(b, h.host(), key)
}

// AppendSet implements Protocol.
func (h *HTTP) AppendSet(b, key, value []byte) []byte {
	b = h1.AppendStoreHead(b, h.host(), key, len(value))
	return append(b, value...)
}

// Parse implements Protocol: a GET answers 200 with the value or 404; a
// store answers 200, or 507 at --max-memory. Any other status, and a
// response that closes the connection, are errors.
func (h *HTTP) Parse(op Op, b []byte) (Reply, int, error) {
	resp, n, err := h.parser.Parse(b)
	if errors.Is(err, h1.ErrIncomplete) {
		return Reply{}, 0, ErrIncomplete
	} else if err != nil {
		return Reply{}, 0, &ReplyError{Proto: h.Name(), Op: op, Msg: err.Error()}
	}
	if resp.Close {
		return Reply{}, 0, &ReplyError{Proto: h.Name(), Op: op, Msg: "server closes the connection", Line: status(resp)}
	}
	switch {
	case op == Set && resp.Status == 200:
		return Reply{Outcome: Stored}, n, nil
	case op == Set && resp.Status == 507:
		return Reply{Outcome: NotStored, Detail: status(resp)}, n, nil
	case op == Get && resp.Status == 200:
		return Reply{Outcome: Hit, Value: resp.Body}, n, nil
	case op == Get && resp.Status == 404:
		return Reply{Outcome: Miss}, n, nil
	}
	return Reply{}, 0, &ReplyError{Proto: h.Name(), Op: op, Msg: "unexpected status", Line: status(resp)}
}

func status(r h1.Response) string {
	s := strconv.Itoa(r.Status)
	if len(r.Body) > 0 {
		s += " " + string(r.Body[:min(len(r.Body), 64)])
	}
	return s
}
