package conformance

import (
	"context"
	"debug/buildinfo"
	"maps"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/corekv/corekv/internal/serverproc"
)

// loopExpected are the h2spec cases the loop engine is known to fail, with
// the cause of each. TestH2spec checks the list exactly: a case that fails
// and is not on it fails the test, and so does a case on it that passes
// (then remove it). Since HTTP/2 runs on the loop itself (internal/http2,
// issue 15) the list is empty: 145 of 145.
var loopExpected = map[string]string{}

// loopFlaky are cases the loop engine may fail now and then. None: the
// loop reads and answers a connection's frames in order on one thread.
var loopFlaky = map[string]string{}

// TestH2spec builds corekv, starts it with each engine and runs h2spec
// against it (h2c with prior knowledge). The loop engine must fail exactly
// loopExpected, give or take loopFlaky; the std engine (net/http with
// x/net's server) is run as a comparison and only logged.
func TestH2spec(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corekv and runs h2spec against it; skipped in -short mode")
	}
	bin, err := FindH2spec(t.Context())
	if err != nil {
		t.Skipf("%v: install it with go install github.com/summerwind/h2spec/cmd/h2spec@%s (scripts/test.sh does)", err, H2specVersion)
	}
	checkH2specVersion(t, bin)
	corekv, err := serverproc.Build(t.Context(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("loop", func(t *testing.T) {
		rep := runH2spec(t, bin, corekv, "loop")
		unexpected, fixed := compareFailures(rep.Failed(), loopExpected, loopFlaky)
		for _, id := range unexpected {
			t.Errorf("h2spec %s failed: %s", id, detail(rep, id))
		}
		for _, id := range fixed {
			t.Errorf("h2spec %s passes now: remove it from loopExpected (%s)", id, loopExpected[id])
		}
		for _, id := range rep.Failed() {
			if cause, ok := loopFlaky[id]; ok {
				t.Logf("h2spec %s failed, a known flaky case: %s", id, cause)
			}
		}
	})
	t.Run("std", func(t *testing.T) {
		rep := runH2spec(t, bin, corekv, "std")
		t.Logf("std engine (comparison only) fails %q", rep.Failed())
	})
}

// runH2spec starts corekv with --engine engine and runs h2spec against it.
func runH2spec(t *testing.T, h2spec, corekv, engine string) *Report {
	t.Helper()
	cmd := exec.Command(corekv, "--host", "127.0.0.1", "--port", "0", "--engine", engine, "--max-memory", "64MiB", "--admin-addr=")
	cmd.Env = serverproc.HermeticEnv()
	proc, err := serverproc.Start(t.Context(), serverproc.Config{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := proc.Stop(); err != nil {
			t.Errorf("corekv --engine %s did not stop cleanly: %v", engine, err)
		}
	}()
	// Each of the 145 cases takes milliseconds, or a few -o timeouts at
	// most when the server does not answer as expected.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{Bin: h2spec, Addr: proc.Addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("h2spec against --engine=%s: %s", engine, rep.Score())
	return rep
}

// compareFailures splits the failed ids against the expected ones: those
// neither expected nor flaky, and the expected ones that did not fail.
func compareFailures(failed []string, expected, flaky map[string]string) (unexpected, fixed []string) {
	for _, id := range failed {
		_, isExpected := expected[id]
		_, isFlaky := flaky[id]
		if !isExpected && !isFlaky {
			unexpected = append(unexpected, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(expected)) {
		if !slices.Contains(failed, id) {
			fixed = append(fixed, id)
		}
	}
	return unexpected, fixed
}

func TestCompareFailures(t *testing.T) {
	expected := map[string]string{"a/1": "", "b/2": ""}
	flaky := map[string]string{"c/3": ""}
	tests := []struct {
		name                      string
		failed, unexpected, fixed []string
	}{
		{"as expected", []string{"a/1", "b/2"}, nil, nil},
		{"as expected with a flaky failure", []string{"a/1", "b/2", "c/3"}, nil, nil},
		{"a new failure", []string{"a/1", "b/2", "d/4"}, []string{"d/4"}, nil},
		{"an expected failure passes", []string{"b/2"}, nil, []string{"a/1"}},
		{"all pass", nil, nil, []string{"a/1", "b/2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unexpected, fixed := compareFailures(tc.failed, expected, flaky)
			if !slices.Equal(unexpected, tc.unexpected) || !slices.Equal(fixed, tc.fixed) {
				t.Errorf("compareFailures(%q) = %q, %q, want %q, %q", tc.failed, unexpected, fixed, tc.unexpected, tc.fixed)
			}
		})
	}
}

// detail returns a failed case's description and what h2spec saw.
func detail(rep *Report, id string) string {
	for _, c := range rep.Cases {
		if c.ID == id {
			return c.Desc + ":\n" + c.Detail
		}
	}
	return ""
}

// checkH2specVersion fails the test when bin is an h2spec built from
// another module version than the one the expected lists are measured
// with: case numbers may differ.
func checkH2specVersion(t *testing.T, bin string) {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Logf("cannot tell the version of %s (%v); expected results are for h2spec %s", bin, err, H2specVersion)
		return
	}
	if v := info.Main.Version; info.Main.Path == "github.com/summerwind/h2spec" && v != H2specVersion {
		t.Fatalf("%s is h2spec %s, the expected results are for %s: go install github.com/summerwind/h2spec/cmd/h2spec@%s", bin, v, H2specVersion, H2specVersion)
	}
}
