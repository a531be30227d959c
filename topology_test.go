package main

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestPlan plans on topology's two-socket fixture, as `corekv topology
// --sysfs` does.
func TestPlan(t *testing.T) {
	h := sysfsHost(filepath.Join("topology", "testdata", "2s-smt", "sys"))
	tests := []struct {
		name       string
		in         placement
		wantShards int
		wantErr    string
	}{
		{"one per CPU", placement{}, 0, ""},
		{"two shards", placement{Shards: 2}, 2, ""},
		{"two CPUs", placement{CPUs: "0-1"}, 2, ""},
		{"bad cpulist", placement{CPUs: "x"}, 0, `--cpus: parse cpulist "x": bad CPU "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			usable, plan, err := tc.in.plan(h)
			got := ""
			if err != nil {
				got = err.Error()
				var u usageError
				if !errors.As(err, &u) {
					t.Errorf("plan(%+v) error %v is not a usageError (exit 2)", tc.in, err)
				}
			}
			want := tc.wantShards
			if want == 0 && tc.wantErr == "" {
				want = len(usable)
			}
			if got != tc.wantErr || len(plan) != want {
				t.Errorf("plan(%+v) = %d shards, %v; want %d, %q", tc.in, len(plan), err, want, tc.wantErr)
			}
		})
	}
	if _, _, err := (&placement{}).plan(sysfsHost(t.TempDir())); err == nil {
		t.Error("plan on an empty sysfs tree succeeded")
	}
}
