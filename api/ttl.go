package api

import (
	"strings"
	"time"
)

// MaxTTL is the longest time to live a store accepts: ten years.
const MaxTTL = 10 * 365 * 24 * time.Hour

// ErrBadTTL refuses a ttl parameter that is not a whole number of seconds
// from 0 to MaxTTL.
var ErrBadTTL = &Problem{400, "bad ttl: want whole seconds from 0 (never expires) to 315360000 (ten years)"}

// parseTTL returns the time to live that the query of an origin-form
// request target asks for with ttl=SECONDS: def when there is no ttl
// parameter, 0 (no expiry) for ttl=0. It does not allocate.
func parseTTL(target string, def time.Duration) (time.Duration, *Problem) {
	_, query, ok := strings.Cut(target, "?")
	if !ok {
		return def, nil
	}
	query, _, _ = strings.Cut(query, "#")
	for query != "" {
		var param string
		param, query, _ = strings.Cut(query, "&")
		if v, ok := strings.CutPrefix(param, "ttl="); ok {
			return parseSeconds(v)
		}
		if param == "ttl" {
			return 0, ErrBadTTL
		}
	}
	return def, nil
}

// parseSeconds parses a ttl value: decimal digits only, at most MaxTTL.
func parseSeconds(v string) (time.Duration, *Problem) {
	const max = int64(MaxTTL / time.Second)
	if v == "" || len(v) > 12 {
		return 0, ErrBadTTL
	}
	n := int64(0)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, ErrBadTTL
		}
		n = n*10 + int64(c-'0')
	}
	if n > max {
		return 0, ErrBadTTL
	}
	return time.Duration(n) * time.Second, nil
}
