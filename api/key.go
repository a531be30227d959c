package api

// Problem is a refusal: the status to answer and a one-line message for the
// client. Its Error method makes it usable as an error.
type Problem struct {
	Status int
	Msg    string
}

func (p *Problem) Error() string { return p.Msg }

// The refusals of the API. Handlers answer them as they are; nothing stored
// changes when a request is refused.
var (
	ErrNoRoute       = &Problem{404, "no such route"}
	ErrNoKey         = &Problem{404, "no such key"}
	ErrMethod        = &Problem{405, "method not allowed"}
	ErrEmptyKey      = &Problem{400, "empty key"}
	ErrBadEscape     = &Problem{400, "malformed percent-escape in key"}
	ErrKeyTooLong    = &Problem{414, "key too long"}
	ErrValueTooLarge = &Problem{413, "value too large"}
	ErrNoLength      = &Problem{411, "length required: send Content-Length or a chunked body"}
	ErrStoreFull     = &Problem{507, "store is full: memory limit reached"}
)

// AppendKey percent-decodes the key segment raw, appends it to dst and
// returns the result. It refuses an empty key, a malformed escape and a key
// longer than max bytes once decoded. It does not allocate when dst has
// room.
func AppendKey(dst []byte, raw string, max int) ([]byte, *Problem) {
	if raw == "" {
		return dst, ErrEmptyKey
	}
	start := len(dst)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) {
				return dst[:start], ErrBadEscape
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return dst[:start], ErrBadEscape
			}
			c = hi<<4 | lo
			i += 2
		}
		if len(dst)-start >= max {
			return dst[:start], ErrKeyTooLong
		}
		dst = append(dst, c)
	}
	return dst, nil
}

func unhex(c byte) (byte, bool) {
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
