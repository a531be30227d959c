package main

import (
	"testing"
)

func TestSteerMode(t *testing.T) {
	for _, tc := range []struct {
		steer  string
		pinned bool
		want   string
	}{
		{steerAuto, true, steerCPU},
		{steerAuto, false, steerHash},
		{steerCPU, false, steerCPU},
		{steerHash, true, steerHash},
	} {
		if got := steerMode(tc.steer, tc.pinned); got != tc.want {
			t.Errorf("steerMode(%q, pinned %v) = %q, want %q", tc.steer, tc.pinned, got, tc.want)
		}
	}
}
