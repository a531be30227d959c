package memlimit

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	const bad = `bad size %q: want bytes, e.g. 1073741824, 512MiB, 4G or auto`
	tests := []struct {
		name, in string
		want     Size
		wantErr  string
	}{
		{"zero is unlimited", "0", Bytes(0), ""},
		{"plain bytes", "1073741824", Bytes(1 << 30), ""},
		{"MiB", "512MiB", Bytes(512 << 20), ""},
		{"bare G", "4G", Bytes(4 << 30), ""},
		{"lower-case gb", "4gb", Bytes(4 << 30), ""},
		{"lower-case k", "64k", Bytes(64 << 10), ""},
		{"TiB", "2TiB", Bytes(2 << 40), ""},
		{"surrounding space", " 8M ", Bytes(8 << 20), ""},
		{"auto", "auto", Auto(), ""},
		{"AUTO", "AUTO", Auto(), ""},
		{"empty", "", Size{}, fmt.Sprintf(bad, "")},
		{"negative", "-1", Size{}, fmt.Sprintf(bad, "-1")},
		{"fraction", "1.5G", Size{}, fmt.Sprintf(bad, "1.5G")},
		{"unknown suffix", "4x", Size{}, fmt.Sprintf(bad, "4x")},
		{"suffix alone", "MiB", Size{}, fmt.Sprintf(bad, "MiB")},
		{"overflow after shift", "9999999999T", Size{}, fmt.Sprintf(bad, "9999999999T")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if got != tc.want || errText(err) != tc.wantErr {
				t.Errorf("ParseSize(%q) = %+v, %v; want %+v, %q", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestSizeText(t *testing.T) {
	var s Size
	if err := s.UnmarshalText([]byte("1KiB")); err != nil || s != Bytes(1024) || s.String() != "1024" {
		t.Errorf("UnmarshalText(1KiB) = %v, %v; want 1024", s, err)
	}
	if err := s.UnmarshalText([]byte("auto")); err != nil || s.String() != "auto" {
		t.Errorf("UnmarshalText(auto) = %v, %v; want auto", s, err)
	}
	if err := s.UnmarshalText([]byte("lots")); err == nil || s.String() != "auto" {
		t.Errorf("UnmarshalText(lots) = %v, %v; want an error and the value kept", s, err)
	}
	if n, err := Bytes(77).Resolve("/nonexistent", "/nonexistent"); n != 77 || err != nil {
		t.Errorf("Bytes(77).Resolve = %d, %v; want 77 without reading files", n, err)
	}
}

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  string
	}{
		{"usual", "MemTotal:       24576000 kB\nMemFree:  100 kB\n", 24576000 << 10, ""},
		{"not first, CRLF", "MemFree: 1 kB\r\nMemTotal: 4 kB\r\n", 4 << 10, ""},
		{"missing", "MemFree:  100 kB\n", 0, "no MemTotal line"},
		{"no unit", "MemTotal: 100\n", 0, "no MemTotal line"},
		{"garbage", "MemTotal: lots kB\n", 0, `bad MemTotal "lots"`},
		{"zero", "MemTotal: 0 kB\n", 0, `bad MemTotal "0"`},
		{"overflows bytes", "MemTotal: 9223372036854775807 kB\n", 0, `bad MemTotal "9223372036854775807"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMemTotal([]byte(tc.in))
			if got != tc.want || errText(err) != tc.wantErr {
				t.Errorf("parseMemTotal(%q) = %d, %v; want %d, %q", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := parseMemTotal(nil); !errors.Is(err, errNoMemTotal) {
		t.Errorf("parseMemTotal(nil) = %v, want errNoMemTotal", err)
	}
}

func TestParseMemoryMax(t *testing.T) {
	tests := []struct {
		name, in string
		want     int64
		wantErr  string
	}{
		{"limited", "1073741824\n", 1 << 30, ""},
		{"unlimited", "max\n", 0, ""},
		{"garbage", "lots\n", 0, `bad value "lots"`},
		{"negative", "-5\n", 0, `bad value "-5"`},
		{"empty", "", 0, `bad value ""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMemoryMax([]byte(tc.in))
			if got != tc.want || errText(err) != tc.wantErr {
				t.Errorf("parseMemoryMax(%q) = %d, %v; want %d, %q", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseCgroupPath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"v2", "0::/app\n", "/app"},
		{"hybrid, v2 last", "4:memory:/x\n0::/app.slice/a\n", "/app.slice/a"},
		{"v1 only", "4:memory:/app\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseCgroupPath([]byte(tc.in)); got != tc.want {
				t.Errorf("parseCgroupPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// naiveMemTotal is a reference for parseMemTotal written another way: the
// first line whose words are "MemTotal:", a number and "kB".
func naiveMemTotal(s string) (int64, bool) {
	for _, line := range strings.Split(s, "\n") {
		w := strings.Fields(line)
		if len(w) != 3 || w[0] != "MemTotal:" || w[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(w[1], 10, 64)
		if err != nil || kb <= 0 || kb >= 1<<53 {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}

func FuzzMemTotal(f *testing.F) {
	for _, s := range []string{
		"MemTotal:       24576000 kB\nMemFree:  100 kB\n",
		"MemFree: 1 kB\r\nMemTotal: 4 kB\r\n",
		"MemTotal: lots kB\n", "MemTotal: 0 kB\n", "MemTotal: 9223372036854775807 kB\n",
		"MemTotal:\t+7\tkB", "MemTotal: 007 kB\x85",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseMemTotal(data)
		if err != nil {
			if got != 0 {
				t.Fatalf("parseMemTotal(%q) = %d with error %v", data, got, err)
			}
			return
		}
		if got <= 0 || got%1024 != 0 {
			t.Fatalf("parseMemTotal(%q) = %d, want a positive multiple of 1024", data, got)
		}
		again, err := parseMemTotal(fmt.Appendf(nil, "MemTotal: %d kB\n", got/1024))
		if again != got || err != nil {
			t.Fatalf("parseMemTotal(%q) = %d, but its formatted result parses as %d, %v", data, got, again, err)
		}
		// The reference sees only ASCII-space-separated text with small values.
		if bytes.ContainsFunc(data, func(r rune) bool { return r > 0x7f || r == '\v' || r == '\f' || r == '\r' }) {
			return
		}
		if want, ok := naiveMemTotal(string(data)); ok && want != got {
			t.Fatalf("parseMemTotal(%q) = %d, reference says %d", data, got, want)
		}
	})
}

func FuzzCgroupMemoryMax(f *testing.F) {
	for _, s := range [][2]string{
		{"0::/app\n", "1073741824\n"}, {"0::/app\n", "max\n"}, {"4:memory:/app\n", ""},
		{"0::/app\n", "lots\n"}, {"0::/\n0::/b", "-0"}, {"0::", " +12 "},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, self, max []byte) {
		rel := parseCgroupPath(self)
		if rel != "" && (strings.Contains(rel, "\n") || !bytes.Contains(self, []byte("0::"+rel))) {
			t.Fatalf("parseCgroupPath(%q) = %q, not a line's rest after 0::", self, rel)
		}
		n, err := parseMemoryMax(max)
		switch {
		case err != nil && n != 0:
			t.Fatalf("parseMemoryMax(%q) = %d with error %v", max, n, err)
		case err == nil && n < 0:
			t.Fatalf("parseMemoryMax(%q) = %d, want ≥ 0", max, n)
		case err == nil && n > 0:
			if again, err := parseMemoryMax([]byte(strconv.FormatInt(n, 10) + "\n")); again != n || err != nil {
				t.Fatalf("parseMemoryMax(%q) = %d, but its formatted result parses as %d, %v", max, n, again, err)
			}
		}
	})
}
