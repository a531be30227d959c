package kvproto

import (
	"bytes"
	"strconv"
)

// Memcached is memcached's text protocol: set with flags 0 and no expiry,
// get of one key.
type Memcached struct{}

// Name implements Protocol.
func (Memcached) Name() string { return "memcached" }

// AppendGet implements Protocol.
func (Memcached) AppendGet(b, key []byte) []byte {
	b = append(b, "get "...)
	b = append(b, key...)
	return append(b, "\r\n"...)
}

// AppendSet implements Protocol.
func (Memcached) AppendSet(b, key, value []byte) []byte {
	b = append(b, "set "...)
	b = append(b, key...)
	b = append(b, " 0 0 "...)
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, "\r\n"...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// Parse implements Protocol.
func (m Memcached) Parse(op Op, b []byte) (Reply, int, error) {
	line, rest, ok := cutLine(b)
	if !ok {
		return Reply{}, 0, incomplete(m, op, b)
	}
	head := len(b) - len(rest)
	switch {
	case op == Set && string(line) == "STORED":
		return Reply{Outcome: Stored}, head, nil
	case op == Set && (string(line) == "NOT_STORED" || bytes.HasPrefix(line, []byte("SERVER_ERROR out of memory"))):
		return Reply{Outcome: NotStored, Detail: string(line)}, head, nil
	case op == Get && string(line) == "END":
		return Reply{Outcome: Miss}, head, nil
	case op == Get && bytes.HasPrefix(line, []byte("VALUE ")):
		return m.parseValue(line, rest, head)
	}
	return Reply{}, 0, &ReplyError{Proto: m.Name(), Op: op, Msg: "unexpected line", Line: string(line)}
}

// parseValue parses "VALUE <key> <flags> <bytes>", the data and "END".
func (m Memcached) parseValue(line, rest []byte, head int) (Reply, int, error) {
	fields := bytes.Fields(line)
	if len(fields) < 4 {
		return Reply{}, 0, &ReplyError{Proto: m.Name(), Op: Get, Msg: "short VALUE line", Line: string(line)}
	}
	n, ok := parseLen(fields[3])
	if !ok {
		return Reply{}, 0, &ReplyError{Proto: m.Name(), Op: Get, Msg: "bad length", Line: string(line)}
	}
	v, dn, err := data(rest, n)
	if err == ErrIncomplete {
		return Reply{}, 0, err
	} else if err != nil {
		return Reply{}, 0, &ReplyError{Proto: m.Name(), Op: Get, Msg: err.Error(), Line: string(line)}
	}
	end, _, ok := cutLine(rest[dn:])
	if !ok {
		return Reply{}, 0, incomplete(m, Get, rest[dn:])
	}
	if string(end) != "END" {
		return Reply{}, 0, &ReplyError{Proto: m.Name(), Op: Get, Msg: "value not followed by END", Line: string(end)}
	}
	return Reply{Outcome: Hit, Value: v}, head + dn + len("END\r\n"), nil
}

// incomplete returns ErrIncomplete, or an error when b is already longer
// than any reply line may be.
func incomplete(p Protocol, op Op, b []byte) error {
	if len(b) > maxLine {
		return &ReplyError{Proto: p.Name(), Op: op, Msg: "line too long", Line: string(b[:64])}
	}
	return ErrIncomplete
}
