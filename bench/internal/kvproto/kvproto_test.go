package kvproto

import (
	"errors"
	"testing"
)

func TestAppend(t *testing.T) {
	key, val := []byte("key7"), []byte("hello")
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"memcached get", Memcached{}.AppendGet(nil, key), "get key7\r\n"},
		{"memcached set", Memcached{}.AppendSet(nil, key, val), "set key7 0 0 5\r\nhello\r\n"},
		{"memcached empty value", Memcached{}.AppendSet(nil, key, nil), "set key7 0 0 0\r\n\r\n"},
		{"redis get", Redis{}.AppendGet(nil, key), "*2\r\n$3\r\nGET\r\n$4\r\nkey7\r\n"},
		{"redis set", Redis{}.AppendSet(nil, key, val), "*3\r\n$3\r\nSET\r\n$4\r\nkey7\r\n$5\r\nhello\r\n"},
		{"http get", (&HTTP{}).AppendGet(nil, key), "GET /get/key7 HTTP/1.1\r\nHost: corekv\r\n\r\n"},
		{"http set", (&HTTP{Host: "h:1"}).AppendSet(nil, key, val), "POST /store/key7 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 5\r\n\r\nhello"},
		{"appends to b", Memcached{}.AppendGet([]byte("x"), key), "xget key7\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		proto       Protocol
		op          Op
		in          string
		want        Outcome
		wantValue   string
		wantN       int // bytes taken; 0 means all of in
		wantDetail  string
		wantErrText string
	}{
		{name: "memcached stored", proto: Memcached{}, op: Set, in: "STORED\r\n", want: Stored},
		{name: "memcached out of memory", proto: Memcached{}, op: Set, in: "SERVER_ERROR out of memory storing object\r\n", want: NotStored, wantDetail: "SERVER_ERROR out of memory storing object"},
		{name: "memcached not stored", proto: Memcached{}, op: Set, in: "NOT_STORED\r\n", want: NotStored, wantDetail: "NOT_STORED"},
		{name: "memcached miss", proto: Memcached{}, op: Get, in: "END\r\n", want: Miss},
		{name: "memcached hit", proto: Memcached{}, op: Get, in: "VALUE k 0 5\r\nhel\r\n\r\nEND\r\n", want: Hit, wantValue: "hel\r\n"},
		{name: "memcached hit then more", proto: Memcached{}, op: Get, in: "VALUE k 0 2\r\nhi\r\nEND\r\nEND\r\n", want: Hit, wantValue: "hi", wantN: 22},
		{name: "memcached empty value", proto: Memcached{}, op: Get, in: "VALUE k 0 0\r\n\r\nEND\r\n", want: Hit, wantValue: ""},
		{name: "memcached error", proto: Memcached{}, op: Set, in: "ERROR\r\n", wantErrText: `kvproto: memcached reply to SET: unexpected line in "ERROR"`},
		{name: "memcached END to a set", proto: Memcached{}, op: Set, in: "END\r\n", wantErrText: `kvproto: memcached reply to SET: unexpected line in "END"`},
		{name: "memcached bad length", proto: Memcached{}, op: Get, in: "VALUE k 0 x\r\n", wantErrText: `kvproto: memcached reply to GET: bad length in "VALUE k 0 x"`},
		{name: "memcached short VALUE", proto: Memcached{}, op: Get, in: "VALUE k 0\r\n", wantErrText: `kvproto: memcached reply to GET: short VALUE line in "VALUE k 0"`},
		{name: "memcached data too long", proto: Memcached{}, op: Get, in: "VALUE k 0 2\r\nhix\r\nEND\r\n", wantErrText: `kvproto: memcached reply to GET: data not followed by CRLF in "VALUE k 0 2"`},
		{name: "memcached no END", proto: Memcached{}, op: Get, in: "VALUE k 0 2\r\nhi\r\nVALUE\r\n", wantErrText: `kvproto: memcached reply to GET: value not followed by END in "VALUE"`},
		{name: "redis ok", proto: Redis{}, op: Set, in: "+OK\r\n", want: Stored},
		{name: "redis oom", proto: Redis{}, op: Set, in: "-OOM command not allowed when used memory > 'maxmemory'.\r\n", want: NotStored, wantDetail: "-OOM command not allowed when used memory > 'maxmemory'."},
		{name: "redis miss", proto: Redis{}, op: Get, in: "$-1\r\n", want: Miss},
		{name: "redis hit", proto: Redis{}, op: Get, in: "$5\r\nab\r\nc\r\n", want: Hit, wantValue: "ab\r\nc"},
		{name: "redis hit then more", proto: Redis{}, op: Get, in: "$1\r\na\r\n+OK\r\n", want: Hit, wantValue: "a", wantN: 7},
		{name: "redis error", proto: Redis{}, op: Get, in: "-ERR wrong\r\n", wantErrText: `kvproto: redis reply to GET: unexpected line in "-ERR wrong"`},
		{name: "redis bad length", proto: Redis{}, op: Get, in: "$-2\r\n", wantErrText: `kvproto: redis reply to GET: bad length in "$-2"`},
		{name: "redis OK to a get", proto: Redis{}, op: Get, in: "+OK\r\n", wantErrText: `kvproto: redis reply to GET: unexpected line in "+OK"`},
		{name: "http stored", proto: &HTTP{}, op: Set, in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", want: Stored},
		{name: "http full", proto: &HTTP{}, op: Set, in: "HTTP/1.1 507 Insufficient Storage\r\nContent-Length: 4\r\n\r\nfull", want: NotStored, wantDetail: "507 full"},
		{name: "http hit", proto: &HTTP{}, op: Get, in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", want: Hit, wantValue: "abc"},
		{name: "http miss", proto: &HTTP{}, op: Get, in: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", want: Miss},
		{name: "http 413", proto: &HTTP{}, op: Set, in: "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n", wantErrText: `kvproto: http reply to SET: unexpected status in "413"`},
		{name: "http close", proto: &HTTP{}, op: Get, in: "HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", wantErrText: `kvproto: http reply to GET: server closes the connection in "400"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, n, err := tc.proto.Parse(tc.op, []byte(tc.in))
			if tc.wantErrText != "" {
				var re *ReplyError
				if !errors.As(err, &re) || err.Error() != tc.wantErrText {
					t.Fatalf("Parse(%v, %q) error = %v, want %s", tc.op, tc.in, err, tc.wantErrText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%v, %q) error = %v", tc.op, tc.in, err)
			}
			wantN := tc.wantN
			if wantN == 0 {
				wantN = len(tc.in)
			}
			if r.Outcome != tc.want || string(r.Value) != tc.wantValue || n != wantN || r.Detail != tc.wantDetail {
				t.Errorf("Parse(%v, %q) = %v %q (%q), %d; want %v %q (%q), %d",
					tc.op, tc.in, r.Outcome, r.Value, r.Detail, n, tc.want, tc.wantValue, tc.wantDetail, wantN)
			}
			// Every proper prefix is incomplete, never an error.
			for i := range len(tc.in[:wantN]) {
				if _, _, err := tc.proto.Parse(tc.op, []byte(tc.in[:i])); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("Parse(%v, %q) error = %v, want ErrIncomplete", tc.op, tc.in[:i], err)
				}
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	long := make([]byte, maxLine+1)
	for i := range long {
		long[i] = 'x'
	}
	for _, p := range []Protocol{Memcached{}, Redis{}} {
		if _, _, err := p.Parse(Get, long); err == nil || errors.Is(err, ErrIncomplete) {
			t.Errorf("%s: Parse(%d bytes without CRLF) error = %v, want a ReplyError", p.Name(), len(long), err)
		}
	}
}
