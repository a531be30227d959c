package main

import (
	"slices"
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
		name     string
		in       string
		want     []float64
		openLoop bool
		wantErr  string
	}{
		{"auto", "auto", nil, true, ""},
		{"none", "none", nil, false, ""},
		{"list", "5000, 10000,20000", []float64{5000, 10000, 20000}, true, ""},
		{"zero", "0", nil, false, `parse --rates "0": bad rate "0": want a positive number of requests/s`},
		{"word", "fast", nil, false, `parse --rates "fast": bad rate "fast": want a positive number of requests/s`},
		{"negative", "-5", nil, false, `parse --rates "-5": bad rate "-5": want a positive number of requests/s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, openLoop, err := parseRates(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if !slices.Equal(got, tc.want) || openLoop != tc.openLoop || gotErr != tc.wantErr {
				t.Errorf("parseRates(%q) = %v, %v, %v; want %v, %v, %q", tc.in, got, openLoop, err, tc.want, tc.openLoop, tc.wantErr)
			}
		})
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

func TestOverlap(t *testing.T) {
	tests := []struct {
		name    string
		a, b    []int
		wantCPU int
		wantOK  bool
	}{
		{"disjoint", []int{0, 1}, []int{2, 3}, 0, false},
		{"shares CPU 0", []int{1, 0}, []int{0, 2}, 0, true},
		{"shares CPU 3", []int{3}, []int{1, 3}, 3, true},
		{"empty", nil, []int{0}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if cpu, ok := overlap(tc.a, tc.b); cpu != tc.wantCPU || ok != tc.wantOK {
				t.Errorf("overlap(%v, %v) = %d, %v; want %d, %v", tc.a, tc.b, cpu, ok, tc.wantCPU, tc.wantOK)
			}
		})
	}
}
