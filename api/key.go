package api

import (
	"encoding/hex"
	"net/http"
)

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
	ErrNoRoute       = &Problem{http.StatusNotFound, "no such route"}
	ErrNoKey         = &Problem{http.StatusNotFound, "no such key"}
	ErrMethod        = &Problem{http.StatusMethodNotAllowed, "method not allowed"}
	ErrEmptyKey      = &Problem{http.StatusBadRequest, "empty key"}
	ErrBadEscape     = &Problem{http.StatusBadRequest, "malformed percent-escape in key"}
	ErrKeyTooLong    = &Problem{http.StatusRequestURITooLong, "key too long"}
	ErrValueTooLarge = &Problem{http.StatusRequestEntityTooLarge, "value too large"}
	ErrNoLength      = &Problem{http.StatusLengthRequired, "length required: send Content-Length or a chunked body"}
	ErrStoreFull     = &Problem{http.StatusInsufficientStorage, "store is full: memory limit reached"}
	ErrBadBody       = &Problem{http.StatusBadRequest, "request body could not be read"}
	ErrInternal      = &Problem{http.StatusInternalServerError, "internal server error"}
)

// appendKey percent-decodes the key segment raw, appends it to dst and
// returns the result. It refuses an empty key, a malformed escape and a key
// longer than max bytes once decoded. It does not allocate when dst has
// room.
func appendKey(dst []byte, raw string, max int) ([]byte, *Problem) {
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
			var b [1]byte
			if _, err := hex.Decode(b[:], []byte{raw[i+1], raw[i+2]}); err != nil {
				return dst[:start], ErrBadEscape
			}
			c = b[0]
			i += 2
		}
		if len(dst)-start >= max {
			return dst[:start], ErrKeyTooLong
		}
		dst = append(dst, c)
	}
	return dst, nil
}
