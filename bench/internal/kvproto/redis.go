package kvproto

import (
	"bytes"
	"strconv"
)

// Redis is RESP, Redis's protocol: SET and GET as arrays of bulk strings.
type Redis struct{}

// Name implements Protocol.
func (Redis) Name() string { return "redis" }

// AppendGet implements Protocol.
func (Redis) AppendGet(b, key []byte) []byte {
	b = append(b, "*2\r\n$3\r\nGET\r\n"...)
	return appendBulk(b, key)
}

// AppendSet implements Protocol.
func (Redis) AppendSet(b, key, value []byte) []byte {
	b = append(b, "*3\r\n$3\r\nSET\r\n"...)
	b = appendBulk(b, key)
	return appendBulk(b, value)
}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, "\r\n"...)
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// Parse implements Protocol. A SET answers +OK, or -OOM when Redis is at
// maxmemory and can evict nothing; a GET answers a bulk string, or the
// null bulk string $-1 for a miss.
func (r Redis) Parse(op Op, b []byte) (Reply, int, error) {
	line, rest, ok := cutLine(b)
	if !ok {
		return Reply{}, 0, incomplete(r, op, b)
	}
	head := len(b) - len(rest)
	switch {
	case op == Set && string(line) == "+OK":
		return Reply{Outcome: Stored}, head, nil
	case op == Set && bytes.HasPrefix(line, []byte("-OOM")):
		return Reply{Outcome: NotStored, Detail: string(line)}, head, nil
	case op == Get && string(line) == "$-1":
		return Reply{Outcome: Miss}, head, nil
	case op == Get && len(line) > 1 && line[0] == '$':
		n, ok := parseLen(line[1:])
		if !ok {
			return Reply{}, 0, &ReplyError{Proto: r.Name(), Op: op, Msg: "bad length", Line: string(line)}
		}
		v, dn, err := data(rest, n)
		if err == ErrIncomplete {
			return Reply{}, 0, err
		} else if err != nil {
			return Reply{}, 0, &ReplyError{Proto: r.Name(), Op: op, Msg: err.Error(), Line: string(line)}
		}
		return Reply{Outcome: Hit, Value: v}, head + dn, nil
	}
	return Reply{}, 0, &ReplyError{Proto: r.Name(), Op: op, Msg: "unexpected line", Line: string(line)}
}
