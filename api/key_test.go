package api

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
)

var appendKeyTests = []struct {
	name    string
	raw     string
	max     int
	want    string
	wantErr *Problem
}{
	{"plain", "abc", 8, "abc", nil},
	{"escaped space", "a%20b", 8, "a b", nil},
	{"escaped slash", "a%2Fb", 8, "a/b", nil},
	{"escaped slash lower hex", "a%2fb", 8, "a/b", nil},
	{"escaped percent", "%25", 8, "%", nil},
	{"escaped percent not decoded twice", "%2541", 8, "%41", nil},
	{"escaped nul", "%00", 8, "\x00", nil},
	{"escaped high byte", "%FF", 8, "\xff", nil},
	{"plus is not a space", "a+b", 8, "a+b", nil},
	{"raw utf-8", "\xc3\xa9", 8, "\xc3\xa9", nil},
	{"reserved bytes kept", "a;b=c&d", 8, "a;b=c&d", nil},
	{"empty", "", 8, "", ErrEmptyKey},
	{"bad hex", "%zz", 8, "", ErrBadEscape},
	{"bad second digit", "%0g", 8, "", ErrBadEscape},
	{"truncated escape", "%4", 8, "", ErrBadEscape},
	{"lone percent", "%", 8, "", ErrBadEscape},
	{"trailing percent", "ab%", 8, "", ErrBadEscape},
	{"bad escape after good", "%41%zz", 8, "", ErrBadEscape},
	{"at the limit", "abc", 3, "abc", nil},
	{"over the limit", "abcd", 3, "", ErrKeyTooLong},
	{"limit counts decoded bytes", "%61%62%63", 3, "abc", nil},
	{"decoded over the limit", "%61%62%63%64", 3, "", ErrKeyTooLong},
	{"over the limit before a bad escape", "abcd%zz", 3, "", ErrKeyTooLong},
}

func TestAppendKey(t *testing.T) {
	for _, tc := range appendKeyTests {
		t.Run(tc.name, func(t *testing.T) {
			got, p := appendKey([]byte("pre/"), tc.raw, tc.max)
			if p != tc.wantErr {
				t.Fatalf("AppendKey(%q, %d) = %q, %v, want %v", tc.raw, tc.max, got, p, tc.wantErr)
			}
			want := "pre/" + tc.want // dst's bytes are kept, and only they on error
			if string(got) != want {
				t.Errorf("AppendKey(%q, %d) = %q, want %q", tc.raw, tc.max, got, want)
			}
		})
	}
}

func TestAppendKeyProblemStatus(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want int
	}{
		{"empty key is a bad request", "", 400},
		{"bad escape is a bad request", "%zz", 400},
		{"long key is URI too long", strings.Repeat("a", 9), 414},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, p := appendKey(nil, tc.raw, 8)
			if p == nil || p.Status != tc.want {
				t.Errorf("AppendKey(%q, 8) = %v, want status %d", tc.raw, p, tc.want)
			}
		})
	}
}

func TestAppendKeyAllocs(t *testing.T) {
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if _, p := appendKey(dst[:0], "a%2Fb%20c", 64); p != nil {
			t.Fatal(p)
		}
		if _, p := appendKey(dst[:0], "%zz", 64); p == nil {
			t.Fatal("bad escape accepted")
		}
	})
	if allocs != 0 {
		t.Errorf("AppendKey with room in dst: %v allocations, want 0", allocs)
	}
}

// FuzzAppendKey compares appendKey with url.PathUnescape, the standard
// library's decoding of a path segment. They must agree on what is a
// malformed escape and on the decoded bytes. Documented exceptions:
//   - appendKey refuses the empty key (ErrEmptyKey): a route's key segment
//     must name something, while "" unescapes fine;
//   - appendKey refuses a key longer than max once decoded (ErrKeyTooLong),
//     which url.PathUnescape has no notion of. A key of exactly max bytes
//     passes, one byte less of max refuses it. appendKey reads from left
//     to right, so a bad escape after more than max decoded bytes is
//     reported as ErrKeyTooLong.
func FuzzAppendKey(f *testing.F) {
	for _, tc := range appendKeyTests {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, err := url.PathUnescape(raw)
		got, p := appendKey([]byte("pre"), raw, DefaultMaxKeySize)
		if !bytes.HasPrefix(got, []byte("pre")) {
			t.Fatalf("AppendKey(%q) = %q, lost dst's bytes", raw, got)
		}
		got = got[3:]
		switch {
		case raw == "":
			if p != ErrEmptyKey {
				t.Fatalf("AppendKey(%q) = %q, %v, want %v", raw, got, p, ErrEmptyKey)
			}
			return
		case err != nil && p == ErrKeyTooLong:
			if n := decodedBefore(raw); n <= DefaultMaxKeySize {
				t.Fatalf("AppendKey(%q) = %v, want %v: only %d bytes before the bad escape", raw, p, ErrBadEscape, n)
			}
			return
		case err != nil:
			if p != ErrBadEscape {
				t.Fatalf("AppendKey(%q) = %q, %v, want %v (url.PathUnescape: %v)", raw, got, p, ErrBadEscape, err)
			}
			return
		case len(want) > DefaultMaxKeySize:
			if p != ErrKeyTooLong {
				t.Fatalf("AppendKey(%q) = %q, %v, want %v", raw, got, p, ErrKeyTooLong)
			}
			return
		}
		if p != nil || string(got) != want {
			t.Fatalf("AppendKey(%q) = %q, %v, want %q as url.PathUnescape", raw, got, p, want)
		}
		if exact, p := appendKey(nil, raw, len(want)); p != nil || string(exact) != want {
			t.Fatalf("AppendKey(%q, %d) = %q, %v, want %q", raw, len(want), exact, p, want)
		}
		if _, p := appendKey(nil, raw, len(want)-1); p != ErrKeyTooLong {
			t.Fatalf("AppendKey(%q, %d) = %v, want %v", raw, len(want)-1, p, ErrKeyTooLong)
		}
	})
}

// decodedBefore returns how many bytes raw decodes to before its first
// malformed escape.
func decodedBefore(raw string) int {
	n := 0
	for i := 0; i < len(raw); i, n = i+1, n+1 {
		if raw[i] != '%' {
			continue
		}
		if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
			return n
		}
		i += 2
	}
	return n
}

func isHex(c byte) bool {
	return strings.IndexByte("0123456789abcdefABCDEF", c) >= 0
}
