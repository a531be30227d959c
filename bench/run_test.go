package main

import (
	"testing"

	"github.com/alecthomas/kong"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, "bench"},
		{"plain", []string{"--compare", "pinned=--pin-cores"}, "bench --compare pinned=--pin-cores"},
		{"spaces", []string{"--compare", "locked=--pin-cores --store=locked"}, "bench --compare 'locked=--pin-cores --store=locked'"},
		{"empty", []string{"--out", ""}, "bench --out ''"},
		{"quote", []string{"it's"}, `bench 'it'\''s'`},
	}
	for _, tc := range tests {
		if got := commandLine(tc.in); got != tc.want {
			t.Errorf("commandLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRates(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []float64
		wantErr bool
	}{
		{"auto", "auto", nil, false},
		{"none", "none", []float64{-1}, false},
		{"list", "5000, 10000,20000", []float64{5000, 10000, 20000}, false},
		{"zero", "0", nil, true},
		{"word", "fast", nil, true},
		{"negative", "-5", nil, true},
	}
	for _, tc := range tests {
		got, err := parseRates(tc.in)
		if (err != nil) != tc.wantErr || len(got) != len(tc.want) {
			t.Errorf("parseRates(%q) = %v, %v, want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parseRates(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestTargetAddr(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"http://127.0.0.1:3000", "127.0.0.1:3000", false},
		{"127.0.0.1:3000", "127.0.0.1:3000", false},
		{"http://[::1]:3000/", "[::1]:3000", false},
		{"http://example.com", "example.com:80", false},
		{"https://example.com", "", true},
		{"http://h:1/path", "", true},
	}
	for _, tc := range tests {
		got, err := targetAddr(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("targetAddr(%q) = %q, %v, want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestSuiteConfigWithoutServer checks the default use, bench building the
// server itself: neither --server-bin nor --target is a valid command line.
func TestSuiteConfigWithoutServer(t *testing.T) {
	var c cli
	parser, err := kong.New(&c, kong.Name("bench"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		nil,
		{"--compare", "pinned=--pin-cores", "--compare", "unpinned="},
	} {
		if _, err := parser.Parse(args); err != nil {
			t.Fatalf("parse %q: %v", args, err)
		}
		cfg, err := c.suiteConfig()
		if err != nil {
			t.Errorf("suiteConfig(%q) = %v, want no error (bench builds the server)", args, err)
		}
		if cfg.Bin != "" || cfg.Target != "" {
			t.Errorf("suiteConfig(%q): Bin %q Target %q, want both empty until the build", args, cfg.Bin, cfg.Target)
		}
	}
	if _, err := parser.Parse([]string{"--compare", "bad"}); err == nil {
		if _, err := c.suiteConfig(); err == nil {
			t.Errorf("suiteConfig accepted --compare bad")
		}
	}
}
