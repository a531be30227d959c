package conformance

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestParseJUnit reads a report h2spec v2.2.1 wrote against the loop
// engine before the HTTP/1 front closed on a non-HTTP request line: 145
// cases, six of them failed (h2spec reports each as an <error>).
func TestParseJUnit(t *testing.T) {
	f, err := os.Open("testdata/h2spec-v2.2.1-loop.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := ParseJUnit(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http2/3.5/2", "http2/4.2/3", "http2/6.5.3/1", "http2/8.1.2.2/1", "http2/8.1.2.2/2", "http2/8.1.2.6/1"}
	if got := rep.Failed(); !slices.Equal(got, want) {
		t.Errorf("Failed() = %q, want %q", got, want)
	}
	if got := rep.Score(); got != "139/145 passed" {
		t.Errorf("Score() = %q, want %q", got, "139/145 passed")
	}
	byID := map[string]Case{}
	for _, c := range rep.Cases {
		if _, dup := byID[c.ID]; dup {
			t.Errorf("case id %q twice", c.ID)
		}
		byID[c.ID] = c
	}
	tests := []struct{ id, desc, detail string }{
		{"generic/1/1", "Sends a client connection preface", ""},
		{"http2/3.5/2", "Sends invalid connection preface", "frame header looked like an HTTP/1.1 header"},
		{"http2/6.5.3/2", "Sends a SETTINGS frame without ACK flag", ""},
		{"hpack/6.3/1", "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE", ""},
	}
	for _, tc := range tests {
		c, ok := byID[tc.id]
		if !ok {
			t.Errorf("no case %q", tc.id)
			continue
		}
		if c.Desc != tc.desc || !strings.Contains(c.Detail, tc.detail) || (tc.detail == "") == c.Failed {
			t.Errorf("case %q = %+v, want desc %q, detail with %q", tc.id, c, tc.desc, tc.detail)
		}
	}
}

func TestParseJUnitRefusals(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not xml", "145 tests, 140 passed", "parse h2spec JUnit report: EOF"},
		{"no cases", "<testsuites></testsuites>", "parse h2spec JUnit report: no test cases"},
		{"no package", `<testsuites><testsuite><testcase classname="x"></testcase></testsuite></testsuites>`,
			"parse h2spec JUnit report: a testsuite without a package"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := ParseJUnit(strings.NewReader(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseJUnit(%q) = %v, %v, want error %q", tc.in, rep, err, tc.want)
			}
		})
	}
}
